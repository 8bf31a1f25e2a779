import { defineNotificationsWalk } from './suites/notifications-walk.js';
import { EMBEDDED_SHAPE } from './suites/shape.js';

defineNotificationsWalk(EMBEDDED_SHAPE);
