/** The notifications context's only door: its module, config section and published interface. */
export type { InboxEntry, NotificationKind } from "./domain/entries.ts";
export { viewOf as notificationViewOf } from "./http.ts";
export {
  type InboxApi,
  type NotificationsDeps,
  notificationsConfig,
  notificationsModule,
} from "./module.ts";
