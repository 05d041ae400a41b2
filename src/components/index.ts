import type { Component } from '../core/component.js';
import { mongodb } from './mongodb.js';
import { redis } from './redis.js';
import { rustfs } from './rustfs.js';
import { secrets } from './secrets.js';

/** Every component, in the order they are backed up and restored. */
export const COMPONENTS: readonly Component[] = [mongodb, redis, rustfs, secrets];
