// The loading splash: Braille spinner and cycling messages until the first data arrives,
// or a clear error with a Retry button when nothing answers.
import { byId, setText } from "./dom.js";

const FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
const MESSAGES = ["Connecting to services", "Fetching statistics", "Loading job data", "Checking alerts"];
const FRAME_MS = 80;
const FRAMES_PER_MESSAGE = 15;

export class Splash {
  constructor() {
    this.root = byId("splash");
    this.spinner = byId("splash-spinner");
    this.message = byId("splash-message");
    this.loading = byId("splash-loading");
    this.error = byId("splash-error");
    this.errorDetail = byId("splash-error-detail");
    this.retry = byId("splash-retry");
    this.timer = null;
    this.frame = 0;
  }

  /** Show the spinner (again, after an error). */
  spin() {
    this.root.hidden = false;
    this.root.dataset.state = "loading";
    this.loading.hidden = false;
    this.error.hidden = true;
    this.frame = 0;
    this.tick();
    if (!this.timer) this.timer = setInterval(() => this.tick(), FRAME_MS);
  }

  tick() {
    setText(this.spinner, FRAMES[this.frame % FRAMES.length]);
    setText(this.message, MESSAGES[Math.floor(this.frame / FRAMES_PER_MESSAGE) % MESSAGES.length]);
    this.frame += 1;
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  /** Replace the spinner with an error and a Retry button that calls `onRetry`. */
  fail(detail, onRetry) {
    this.stop();
    this.root.dataset.state = "error";
    this.loading.hidden = true;
    this.error.hidden = false;
    setText(this.errorDetail, detail);
    this.retry.onclick = () => onRetry();
    this.retry.focus();
  }

  /** Fade out and get out of the way. */
  finish() {
    this.stop();
    this.root.dataset.state = "done";
    const hide = () => {
      this.root.hidden = true;
    };
    this.root.addEventListener("transitionend", hide, { once: true });
    setTimeout(hide, 600); // in case no transition runs (reduced motion)
  }
}
