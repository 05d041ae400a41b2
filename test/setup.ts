import { removeTemporaryFoldersAfterAll } from './helpers/tempFolders.js';

removeTemporaryFoldersAfterAll();
