/** The community context's only door (issue 16): Hey Blue! connections between officers and citizens. */
export { communityConfig } from "./config.ts";
export type { CommunityEvent, ConnectionEstablished, ConnectionKind, TrophyAwarded } from "./events.ts";
export type { GeoPoint, IndexedPosition, NearbyEntry, NearbyIndex } from "./geo/port.ts";
export { type CommunityApi, type CommunityDeps, communityModule } from "./module.ts";
export { pointsAsset, treasuryAccountName } from "./points.ts";
export type { ParticipantView, ParticipantViews } from "./service.ts";
export { communityEventSchema, communityTopics } from "./topics.ts";
