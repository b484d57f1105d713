/** The community context's only door (issue 16): Hey Blue! connections between officers and citizens. */
export type { CommunityEvent, ConnectionEstablished, ConnectionKind, TrophyAwarded } from "./events.ts";
export type { GeoPoint, NearbyOfficer, NearbyOfficersIndex, OfficerPosition } from "./geo/port.ts";
export { communityEventSchema, communityTopics } from "./topics.ts";
