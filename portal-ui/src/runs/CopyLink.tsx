// "Copy link": the page's address (the whole view is in it) to the clipboard, or, where the
// browser refuses the clipboard, shown selected in a box to copy by hand.
import { useState } from "react";

export function CopyLink() {
  const [state, setState] = useState<"idle" | "copied" | "manual">("idle");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(window.location.href);
      setState("copied");
    } catch {
      setState("manual");
    }
  };
  return (
    <>
      <button
        type="button"
        onClick={() => {
          void copy();
        }}
      >
        Copy link
      </button>
      <span aria-live="polite" className="copied">
        {state === "copied" ? "Link copied" : ""}
      </span>
      {state === "manual" && (
        <input
          type="text"
          readOnly
          aria-label="Link to this view"
          value={window.location.href}
          onFocus={(event) => {
            event.target.select();
          }}
          autoFocus
        />
      )}
    </>
  );
}
