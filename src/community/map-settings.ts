/**
 * The citizen screen's map, for the community context's config section (src/community/config.ts
 * merges `mapSettings` and `mapEnv`; the module reads them through `mapOf`). Unset (the default):
 * no map, the web app shows its radar. Set: the browser fetches map tiles from this server, which so
 * learns the approximate area a citizen looks at. OpenStreetMap's tile policy (and most others)
 * require the attribution shown, so a tile URL without one stops the start (as Web Push's
 * incomplete keys do).
 */
import { z } from "zod";
import { ConfigError } from "../platform/config.ts";

/** `{z}`, `{x}` and `{y}` once each, nothing else in braces: a fixed origin (no `{s}` subdomains). */
const placeholders = ["{z}", "{x}", "{y}"] as const;

function isTileTemplate(template: string): boolean {
  if (placeholders.some((placeholder) => template.split(placeholder).length !== 2)) return false;
  const filled = placeholders.reduce((text, placeholder) => text.replace(placeholder, "0"), template);
  if (/[{}\s]/.test(filled) || !URL.canParse(filled)) return false;
  const url = new URL(filled);
  return (
    (url.protocol === "https:" || url.protocol === "http:") && url.username === "" && url.password === ""
  );
}

export const mapSettings = {
  /** A tile URL template, e.g. `https://tile.openstreetmap.org/{z}/{x}/{y}.png`; unset: no map. */
  mapTileUrl: z
    .string()
    .max(2_048)
    .refine(isTileTemplate, "an http(s) URL template with {z}, {x} and {y} once each, and no other {…}")
    .optional(),
  /** The tile provider's attribution, shown on the map (plain text); required with a tile URL. */
  mapAttribution: z
    .string()
    .trim()
    .min(1)
    .max(300)
    .regex(/^[^<>]*$/, "plain text (no markup)")
    .optional(),
};

export const mapEnv = {
  LEDGERFLOW_COMMUNITY_MAP_TILE_URL: ["community", "mapTileUrl"],
  LEDGERFLOW_COMMUNITY_MAP_ATTRIBUTION: ["community", "mapAttribution"],
} as const;

type MapSettings = { readonly mapTileUrl?: string | undefined; readonly mapAttribution?: string | undefined };

export interface CommunityMap {
  readonly tileUrl: string;
  readonly attribution: string;
}

/**
 * The map the web app shows, or null when no tiles are configured; a ConfigError (at start) for a
 * tile URL without its attribution, which tile providers require shown.
 */
export function mapOf(settings: MapSettings): CommunityMap | null {
  const { mapTileUrl: tileUrl, mapAttribution: attribution } = settings;
  if (tileUrl === undefined) return null;
  if (attribution === undefined)
    throw new ConfigError(
      "LEDGERFLOW_COMMUNITY_MAP_ATTRIBUTION is required when LEDGERFLOW_COMMUNITY_MAP_TILE_URL is set (tile providers require it shown)",
    );
  return { tileUrl, attribution };
}
