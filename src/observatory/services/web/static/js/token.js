// The API token prompt every write action shares (New Task, a job's Retry): when the
// gateway has ODTO_API_TOKEN set it answers 401, the action shows its token field, and
// what is typed there is kept for this tab (api.js) and sent with the next attempt.
import { ApiError, apiToken, setApiToken } from "./api.js";

export class TokenPrompt {
  /** `row` holds the field and is hidden until needed; `input` is the password field. */
  constructor(row, input) {
    this.row = row;
    this.input = input;
  }

  /** The field filled with the stored token, shown only when there is one to edit. */
  reset() {
    this.input.value = apiToken();
    this.row.hidden = !this.input.value;
  }

  hide() {
    this.row.hidden = true;
  }

  /** Keep what was typed (when the field is shown) for this request and later ones. */
  remember() {
    if (!this.row.hidden) setApiToken(this.input.value.trim());
  }

  /** When `failure` is a 401, show the field and focus it; true when it was. */
  askOn(failure) {
    if (!(failure instanceof ApiError && failure.status === 401)) return false;
    this.row.hidden = false;
    this.input.focus();
    return true;
  }
}
