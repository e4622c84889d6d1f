import { type FormEvent, useState } from "react";
import { setUserName, useUserName } from "../user-name.ts";

/** Shows who you are acting as, or asks for a name before the first action. */
export function UserNameField() {
  const name = useUserName();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState("");
  const save = (event: FormEvent) => {
    event.preventDefault();
    setUserName(draft);
    setEditing(false);
  };
  if (name && !editing) {
    return (
      <span className="user-name">
        Acting as <strong>{name}</strong>{" "}
        <button
          type="button"
          className="link-button"
          onClick={() => {
            setDraft(name);
            setEditing(true);
          }}
        >
          change
        </button>
      </span>
    );
  }
  return (
    <form className="user-name-form" onSubmit={save}>
      <label>
        Your name{" "}
        <input value={draft} onChange={(event) => setDraft(event.target.value)} maxLength={100} required />
      </label>
      <button type="submit">Save</button>
    </form>
  );
}
