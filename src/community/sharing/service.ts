/**
 * Sharing a connection: its participants agree (or withdraw), see both sides' agreement and the
 * postings, and once both agreed get the share card. Anyone else is told the connection does not
 * exist (404), so a share reveals nothing to a stranger. When the second agreement lands, the
 * posting to every social target is stored in the same transaction and the poster is woken.
 */
import type { Clock } from "../../platform/clock.ts";
import type { Connection } from "../domain/requests.ts";
import { CommunityError, type ParticipantViews } from "../service.ts";
import { shareCardSvg } from "./card.ts";
import { isShared, type ShareSide, type ShareState, sideOf } from "./domain.ts";
import type { SharedConnectionDocument, SocialTarget } from "./port.ts";
import type { NewPosting, PostingView, ShareStore } from "./store.ts";

export interface SharingDeps {
  readonly connection: (id: string) => Promise<Connection | undefined>;
  readonly store: ShareStore;
  readonly participants: ParticipantViews;
  readonly clock: Clock;
  /** Where shares are posted (none: only the card). */
  readonly targets: readonly SocialTarget[];
  /** The card's public URL for a connection (absolute when the public origin is configured). */
  readonly cardUrlOf: (connectionId: string) => string;
  /** Called after a share became final (wakes the poster in this process). */
  readonly onShared?: () => void;
}

export interface ShareView {
  readonly connectionId: string;
  readonly you: ShareSide;
  readonly officerAgreed: boolean;
  readonly citizenAgreed: boolean;
  readonly shared: boolean;
  readonly sharedAtMs: number | null;
  readonly postings: readonly PostingView[];
}

export interface Sharing {
  view(userId: string, connectionId: string): Promise<ShareView>;
  agree(userId: string, connectionId: string): Promise<ShareView>;
  withdraw(userId: string, connectionId: string): Promise<ShareView>;
  /** The card for a participant, once both agreed. */
  card(userId: string, connectionId: string): Promise<string>;
  /** The card for anyone, once both agreed (the URL the postings carry); else not found. */
  publicCard(connectionId: string): Promise<string>;
}

const notFound = () => new CommunityError("not_found", "No such connection of yours", "id");

async function names(deps: SharingDeps, connection: Connection) {
  const views = await deps.participants([connection.officerId, connection.citizenId]);
  return {
    officerName: views.get(connection.officerId)?.displayName ?? "",
    citizenName: views.get(connection.citizenId)?.displayName ?? "",
  };
}

export function createSharing(deps: SharingDeps): Sharing {
  const participantOf = async (userId: string, connectionId: string) => {
    const connection = await deps.connection(connectionId);
    const side = connection === undefined ? undefined : sideOf(connection, userId);
    if (connection === undefined || side === undefined) throw notFound();
    return { connection, side };
  };
  const viewOf = async (connectionId: string, side: ShareSide, state: ShareState): Promise<ShareView> => ({
    connectionId,
    you: side,
    officerAgreed: state.officerAgreedAtMs !== undefined,
    citizenAgreed: state.citizenAgreedAtMs !== undefined,
    shared: isShared(state),
    sharedAtMs: state.sharedAtMs ?? null,
    postings: isShared(state) ? await deps.store.postings(connectionId) : [],
  });
  const cardOf = async (connection: Connection) =>
    shareCardSvg({ ...(await names(deps, connection)), ...connection });
  return {
    async view(userId, connectionId) {
      const { side } = await participantOf(userId, connectionId);
      return viewOf(connectionId, side, await deps.store.state(connectionId));
    },
    async agree(userId, connectionId) {
      const { connection, side } = await participantOf(userId, connectionId);
      const nowMs = deps.clock.nowMs();
      const postings = await postingsOf(deps, connection, nowMs);
      const decision = await deps.store.decide(connectionId, { kind: "agree", side, nowMs }, postings);
      if (decision.kind === "refused") throw new CommunityError(decision.code);
      if (decision.kind === "changed" && decision.shared) deps.onShared?.();
      return viewOf(connectionId, side, decision.state);
    },
    async withdraw(userId, connectionId) {
      const { side } = await participantOf(userId, connectionId);
      const command = { kind: "withdraw" as const, side, nowMs: deps.clock.nowMs() };
      const decision = await deps.store.decide(connectionId, command, []);
      if (decision.kind === "refused") throw new CommunityError(decision.code);
      return viewOf(connectionId, side, decision.state);
    },
    async card(userId, connectionId) {
      const { connection } = await participantOf(userId, connectionId);
      if (!isShared(await deps.store.state(connectionId))) throw new CommunityError("share_not_agreed");
      return cardOf(connection);
    },
    async publicCard(connectionId) {
      const connection = await deps.connection(connectionId);
      if (connection === undefined || !isShared(await deps.store.state(connectionId)))
        throw new CommunityError("not_found", "No such shared connection", "id");
      return cardOf(connection);
    },
  };
}

/** The postings a share makes if this agreement is the second: one per target, the same document. */
async function postingsOf(deps: SharingDeps, connection: Connection, nowMs: number): Promise<NewPosting[]> {
  if (deps.targets.length === 0) return [];
  const { officerName, citizenName } = await names(deps, connection);
  const document: SharedConnectionDocument = {
    type: "community.connection.shared",
    connectionId: connection.id,
    officer: { displayName: officerName },
    citizen: { displayName: citizenName },
    kind: connection.kind,
    pointsEach: connection.pointsEach.toString(),
    connectedAtMs: connection.atMs,
    sharedAtMs: nowMs,
    cardUrl: deps.cardUrlOf(connection.id),
  };
  const body = JSON.stringify(document);
  return deps.targets.map((target) => ({ target: target.id, targetLabel: target.label, body }));
}
