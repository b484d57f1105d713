/**
 * The community screens' settings from the server (`GET /v1/community/settings`): today, whether a
 * map is configured (its tile server and attribution) or not (the screens show a radar). Asked once
 * per app; a failure is not remembered (the next screen asks again) and means "no map".
 */
import { useEffect, useState } from "react";
import { get } from "./api.ts";

export interface CommunityMapSettings {
  /** A tile URL template with {z}, {x} and {y}. */
  readonly tileUrl: string;
  /** Plain text the map must show (the tile provider's terms). */
  readonly attribution: string;
}

let asked: Promise<CommunityMapSettings | null> | undefined;

function communityMapSettings(): Promise<CommunityMapSettings | null> {
  asked ??= get<{ map: CommunityMapSettings | null }>("/v1/community/settings").then(
    (settings) => settings.map,
    () => {
      asked = undefined;
      return null;
    },
  );
  return asked;
}

/** The map's settings; null without a map; undefined while the server is being asked. */
export function useCommunityMapSettings(): CommunityMapSettings | null | undefined {
  const [settings, setSettings] = useState<CommunityMapSettings | null>();
  useEffect(() => {
    let current = true;
    communityMapSettings().then((map) => {
      if (current) setSettings(map);
    });
    return () => {
      current = false;
    };
  }, []);
  return settings;
}
