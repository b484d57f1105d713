/**
 * The map of the officers near a citizen (Leaflet, tiles from the server's configured tile server;
 * loaded only when one is configured). The citizen is in the middle, with the accuracy of their
 * position as a shaded circle. The server tells a citizen each officer's distance, never their
 * position or direction (privacy): each officer is drawn as a dashed circle at that distance (they
 * are somewhere on it) with a marker on it at a steady, made-up bearing, whose popup names them and
 * asks to connect. Markers follow the same state the list and the radar use (the community socket's
 * replies and pushes), so they move, appear and leave live.
 *
 * The map is for the eyes (aria-hidden, nothing in it takes keyboard focus): the list of officers
 * next to it carries the same names, distances and buttons for screen readers and keyboards.
 */
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { useEffect, useRef } from "react";
import type { NearbyOfficer } from "../lib/community.ts";
import type { CommunityMapSettings } from "../lib/community-settings.ts";
import { distanceText } from "../lib/distance.ts";
import type { Position } from "../lib/position.ts";
import type { OfficersPictureProps } from "./community-map.tsx";

type Props = OfficersPictureProps & { readonly map: CommunityMapSettings };
type Request = (officer: NearbyOfficer, virtual: boolean) => void;

interface OfficerLayer {
  readonly ring: L.Circle;
  readonly marker: L.Marker;
  readonly initial: HTMLElement;
  readonly label: HTMLElement;
  readonly popup: HTMLElement;
}

interface MapLayers {
  readonly map: L.Map;
  readonly accuracy: L.Circle;
  readonly you: L.CircleMarker;
  readonly officers: Map<string, OfficerLayer>;
  /** The view follows the citizen and their officers until the user pans or zooms. */
  followed: boolean;
  fitting: boolean;
}

/** OpenStreetMap's tiles go to zoom 19; most servers stop there. */
const zoomMax = 19;
/** The view's radius around the citizen: the farthest officer with some room, never under this. */
const viewRadiusMinM = 150;
const earthRadiusM = 6_371_008.8;

const nameOf = (officer: NearbyOfficer) => officer.profile?.displayName || "Officer";

/** Leaflet puts attributions in as HTML: the configured text is shown as text. */
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** A steady made-up bearing per officer (radians): the server shares no direction. */
function bearingOf(id: string): number {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return (hash % 360) * (Math.PI / 180);
}

/** The point `distanceM` from `from` along `bearing` (great circle). */
function pointAt(from: Position, distanceM: number, bearing: number): L.LatLngTuple {
  const angular = distanceM / earthRadiusM;
  const lat1 = (from.lat * Math.PI) / 180;
  const lon1 = (from.lon * Math.PI) / 180;
  const lat2 = Math.asin(
    Math.sin(lat1) * Math.cos(angular) + Math.cos(lat1) * Math.sin(angular) * Math.cos(bearing),
  );
  const lon2 =
    lon1 +
    Math.atan2(
      Math.sin(bearing) * Math.sin(angular) * Math.cos(lat1),
      Math.cos(angular) - Math.sin(lat1) * Math.sin(lat2),
    );
  return [(lat2 * 180) / Math.PI, (lon2 * 180) / Math.PI];
}

/** Nothing inside the (aria-hidden) map takes keyboard focus: the list is the way in. */
function unfocusable(element: HTMLElement | undefined): void {
  for (const focusable of element?.querySelectorAll<HTMLElement>("a, button") ?? []) focusable.tabIndex = -1;
}

function createMap(element: HTMLElement, tileUrl: string, attribution: string): MapLayers {
  const map = L.map(element, { keyboard: false, zoomControl: true, attributionControl: true });
  map.attributionControl.setPrefix(false);
  L.tileLayer(tileUrl, { attribution: escapeHtml(attribution), maxZoom: zoomMax }).addTo(map);
  const layers: MapLayers = {
    map,
    accuracy: L.circle([0, 0], { radius: 0, className: "community-map-accuracy", interactive: false }),
    you: L.circleMarker([0, 0], { radius: 7, className: "community-map-you", interactive: false }),
    officers: new Map(),
    followed: true,
    fitting: false,
  };
  map.on("dragstart", () => {
    layers.followed = false;
  });
  map.on("zoomstart", () => {
    if (!layers.fitting) layers.followed = false;
  });
  map.on("popupopen", (event) => unfocusable(event.popup.getElement()));
  unfocusable(element);
  return layers;
}

function button(text: string, kind: "primary" | "secondary", onClick: () => void): HTMLButtonElement {
  const element = document.createElement("button");
  element.type = "button";
  element.className = `button ${kind} small`;
  element.tabIndex = -1;
  element.textContent = text;
  element.addEventListener("click", onClick);
  return element;
}

/** The popup's name, distance and request buttons, for the officer as they are now. */
function fillPopup(
  layers: MapLayers,
  layer: OfficerLayer,
  officer: NearbyOfficer,
  props: Props,
  request: Request,
) {
  const name = document.createElement("strong");
  name.textContent = nameOf(officer);
  const distance = document.createElement("span");
  distance.className = "community-map-distance";
  distance.textContent = distanceText(officer.distanceM);
  const actions = document.createElement("span");
  actions.className = "community-actions";
  const ask = (virtual: boolean) => () => {
    layers.map.closePopup();
    request(officer, virtual);
  };
  if (props.connectedIds.has(officer.officerId)) {
    const connected = document.createElement("span");
    connected.className = "pill pill-good";
    connected.textContent = "Connected";
    actions.append(connected);
  } else {
    actions.append(button("Connect", "primary", ask(false)));
    if (props.virtualAllowed) actions.append(button("Virtually", "secondary", ask(true)));
    for (const element of actions.querySelectorAll("button")) element.disabled = props.busy;
  }
  layer.popup.replaceChildren(name, distance, actions);
  if (layer.marker.isPopupOpen()) layer.marker.getPopup()?.update();
}

function officerLayer(layers: MapLayers, officer: NearbyOfficer): OfficerLayer {
  const initial = document.createElement("span");
  const label = document.createElement("span");
  const popup = document.createElement("div");
  popup.className = "community-map-popup";
  const ring = L.circle([0, 0], { radius: 1, className: "community-map-ring", interactive: false });
  const marker = L.marker([0, 0], {
    icon: L.divIcon({ className: "community-map-officer", html: initial, iconSize: [30, 30] }),
    keyboard: false,
    title: nameOf(officer),
  })
    .bindTooltip(label, { direction: "top", offset: [0, -16] })
    // Padding: an open popup keeps clear of the zoom buttons in the corner.
    .bindPopup(popup, { closeButton: false, offset: [0, -10], autoPanPadding: [48, 12] });
  // The popup says what the tooltip says, and more: not both at once.
  marker.on("popupopen", () => marker.closeTooltip());
  ring.addTo(layers.map);
  marker.addTo(layers.map);
  return { ring, marker, initial, label, popup };
}

function drawOfficer(
  layers: MapLayers,
  officer: NearbyOfficer,
  at: Position,
  props: Props,
  request: Request,
) {
  let layer = layers.officers.get(officer.officerId);
  if (!layer) {
    layer = officerLayer(layers, officer);
    layers.officers.set(officer.officerId, layer);
  }
  const name = nameOf(officer);
  layer.ring.setLatLng([at.lat, at.lon]).setRadius(officer.distanceM);
  layer.marker.setLatLng(pointAt(at, officer.distanceM, bearingOf(officer.officerId)));
  layer.marker.getElement()?.setAttribute("title", name);
  layer.initial.textContent = name.charAt(0).toUpperCase();
  layer.label.textContent = `${name} · ${distanceText(officer.distanceM)}`;
  fillPopup(layers, layer, officer, props, request);
}

/** The citizen, their officers (added, moved, removed), and the view around them while followed. */
function draw(layers: MapLayers, props: Props, request: Request): void {
  const at = props.position;
  if (!at) return;
  const { map } = layers;
  layers.accuracy.setLatLng([at.lat, at.lon]).setRadius(at.accuracyM);
  layers.you.setLatLng([at.lat, at.lon]);
  if (!map.hasLayer(layers.accuracy)) layers.accuracy.addTo(map);
  if (!map.hasLayer(layers.you)) layers.you.addTo(map);
  const present = new Set<string>();
  for (const officer of props.officers) {
    present.add(officer.officerId);
    drawOfficer(layers, officer, at, props, request);
  }
  for (const [id, layer] of layers.officers)
    if (!present.has(id)) {
      layer.ring.remove();
      layer.marker.remove();
      layers.officers.delete(id);
    }
  // Not while a popup is open: moving the view would move it from under the user's finger.
  if (!layers.followed || [...layers.officers.values()].some((layer) => layer.marker.isPopupOpen())) return;
  const farthestM = Math.max(0, ...props.officers.map((officer) => officer.distanceM));
  const radiusM = Math.max(viewRadiusMinM, farthestM * 1.25);
  layers.fitting = true;
  map.fitBounds(L.latLng(at.lat, at.lon).toBounds(radiusM * 2), { animate: false, maxZoom: zoomMax });
  layers.fitting = false;
}

export default function OfficersLeafletMap(props: Props) {
  const container = useRef<HTMLDivElement>(null);
  const layers = useRef<MapLayers>(undefined);
  const latest = useRef(props);
  latest.current = props;
  const { tileUrl, attribution } = props.map;
  useEffect(() => {
    if (!container.current) return;
    const created = createMap(container.current, tileUrl, attribution);
    layers.current = created;
    return () => {
      layers.current = undefined;
      created.map.remove();
    };
  }, [tileUrl, attribution]);
  // Every render: the officers, the position and the request state come from the citizen panel.
  useEffect(() => {
    if (layers.current)
      draw(layers.current, props, (officer, virtual) => latest.current.onRequest(officer, virtual));
  });
  return (
    <figure className="community-map-figure">
      <div ref={container} className="community-map" aria-hidden="true" data-testid="community-map" />
      <figcaption className="muted small">
        You are in the middle. Each dashed circle is an officer's distance from you: their direction isn't
        shared, so they are somewhere on it.
      </figcaption>
    </figure>
  );
}
