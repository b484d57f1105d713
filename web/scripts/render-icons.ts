/**
 * Renders the PWA's PNG icons from the SVG sources with Debian's Chromium (no downloaded browser).
 * Run after editing an icon: `node web/scripts/render-icons.ts`. The PNGs are committed.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const iconsDir = fileURLToPath(new URL("../public/icons/", import.meta.url));
const renders = [
  { source: "icon.svg", target: "icon-192.png", size: 192 },
  { source: "icon.svg", target: "icon-512.png", size: 512 },
  { source: "maskable.svg", target: "maskable-512.png", size: 512 },
];

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
try {
  for (const render of renders) {
    const svg = await readFile(`${iconsDir}${render.source}`, "utf8");
    const page = await browser.newPage({ viewport: { width: render.size, height: render.size } });
    const dataUrl = `data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}`;
    await page.setContent(
      `<html><body style="margin:0;background:transparent"><img src="${dataUrl}" width="${render.size}" height="${render.size}" style="display:block"></body></html>`,
    );
    await page.screenshot({ path: `${iconsDir}${render.target}`, omitBackground: true });
    await page.close();
  }
} finally {
  await browser.close();
}
