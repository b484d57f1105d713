import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import { resumeSession } from "./lib/session.ts";
import "./styles.css";

const root = document.getElementById("root");
// A reopened browser or a new tab resumes the session from the refresh cookie before the first screen.
await resumeSession();
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

// The service worker caches the app shell so the wallet opens offline (production builds only).
if ("serviceWorker" in navigator && import.meta.env.PROD) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js").catch(() => {
      // Not fatal: the app works without offline support (e.g. in a private window).
    });
  });
}
