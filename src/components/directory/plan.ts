import type { RestorePlan } from '../../core/component.js';
import type { FileSelection } from '../fileSelection.js';
import type { DirectoryDetails } from './content.js';
import type { RootTarget } from './targets.js';

export interface DirectoryPlan extends RestorePlan {
  readonly details: DirectoryDetails;
  /** The recorded folders restored, each to where it goes; those inside another are restored as part of it. */
  readonly targets: readonly RootTarget[];
  /** --files / --into: only these files, or elsewhere; undefined for a whole restore. */
  readonly picked?: FileSelection;
}
