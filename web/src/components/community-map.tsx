/**
 * The citizen screen's picture of the officers near them: a map where the server has map tiles
 * configured (GET /v1/community/settings), the radar otherwise, and the radar while the server is
 * asked or the map's code (Leaflet, loaded only when there is a map) arrives. Either picture is for
 * the eyes: the list of officers beside it is what screen readers and keyboards use.
 */
import { lazy, type ReactNode, Suspense } from "react";
import type { NearbyOfficer } from "../lib/community.ts";
import { useCommunityMapSettings } from "../lib/community-settings.ts";
import type { Position } from "../lib/position.ts";

const OfficersLeafletMap = lazy(() => import("./officers-leaflet-map.tsx"));

export interface OfficersPictureProps {
  readonly officers: readonly NearbyOfficer[];
  /** The citizen's own position (the map's centre), once known. */
  readonly position: Position | undefined;
  /** A request is waiting for an answer: no second one. */
  readonly busy: boolean;
  readonly connectedIds: ReadonlySet<string>;
  readonly virtualAllowed: boolean;
  readonly onRequest: (officer: NearbyOfficer, virtual: boolean) => void;
}

export function OfficersPicture(props: OfficersPictureProps & { readonly radar: ReactNode }) {
  const { radar, ...picture } = props;
  const map = useCommunityMapSettings();
  if (!map) return <>{radar}</>;
  return (
    <Suspense fallback={radar}>
      <OfficersLeafletMap {...picture} map={map} />
    </Suspense>
  );
}
