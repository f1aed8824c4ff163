// Who is signed in (services/web/signin.py): the name and role in the header, a sign-out
// button, and every control the role may not use hidden (CSS: body[data-role] with
// [data-needs]) with the reason in the header badge's title. With no token configured the
// dashboard is open and none of this shows.
import { local, whenUnauthorised } from "./api.js";
import { byId, setText } from "./dom.js";

const RANK = { viewer: 1, operator: 2, admin: 3 };

function toSignIn() {
  window.location.assign("signin");
}

/** Load the session; resolves to {name, role, access} (or never, when leaving to sign in). */
export async function loadSession() {
  let session;
  try {
    session = await local("auth/whoami");
  } catch (error) {
    if (error.status === 401) {
      toSignIn();
      return new Promise(() => {});
    }
    return { name: "anonymous", role: "admin", access: "open" }; // an older web service
  }
  if (session?.access !== "tokens") return session;
  whenUnauthorised(toSignIn);
  const role = String(session.role);
  document.body.dataset.role = role;
  setText(byId("session-who"), `${session.name} · ${role}`);
  byId("session-who").title = `Signed in as ${session.name} (role ${role})`;
  const readOnly = (RANK[role] ?? 0) < RANK.operator;
  const badge = byId("session-readonly");
  badge.hidden = !readOnly;
  badge.title = "Your role is viewer: New Task, retry, cancel and replay need the operator role";
  for (const control of document.querySelectorAll("[data-needs]")) {
    if ((RANK[role] ?? 0) < (RANK[control.dataset.needs] ?? 0)) {
      control.title = `Needs the ${control.dataset.needs} role (you are ${role})`;
    }
  }
  byId("session").hidden = false;
  return session;
}
