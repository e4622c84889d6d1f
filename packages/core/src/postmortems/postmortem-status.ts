import type { PostmortemStatus } from "./postmortem-types.ts";

const transitions: Record<PostmortemStatus, readonly PostmortemStatus[]> = {
  draft: ["in_review"],
  in_review: ["draft", "published"],
  published: ["in_review"],
};

/**
 * The review workflow: draft → in review → published. A review can send it back to draft, and a
 * published postmortem can be reopened for review; nothing skips the review.
 */
export function canChangePostmortemStatus(from: PostmortemStatus, to: PostmortemStatus): boolean {
  return transitions[from].includes(to);
}

/** The statuses a postmortem in `from` may move to next. */
export function nextPostmortemStatuses(from: PostmortemStatus): readonly PostmortemStatus[] {
  return transitions[from];
}
