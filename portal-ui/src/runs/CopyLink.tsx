// "Copy link": the page's address (the whole view is in it) to the clipboard.
import { CopyButton } from "../components/CopyButton";

export function CopyLink() {
  return <CopyButton text={window.location.href} label="Copy link" what="Link to this view" copied="Link copied" />;
}
