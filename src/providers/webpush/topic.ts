/**
 * The `Topic` header for `data.only_last_per_room` (RFC 8030 §5.4): a push service keeps only the
 * newest undelivered message with the same topic, so a phone that was offline sees one
 * notification per room instead of a backlog.
 *
 * RFC 8030 allows at most 32 characters of the URL-safe base64 alphabet. 24 bytes of SHA-256 are
 * exactly 32 characters without padding. (Sygnal uses a 22-byte BLAKE2s, whose padded encoding
 * ends in "==", outside that alphabet; only collapsing depends on the value, so ours may differ.)
 */
import { createHash } from 'node:crypto';

export function topicForRoom(roomId: string): string {
  return createHash('sha256').update(roomId, 'utf8').digest().subarray(0, 24).toString('base64url');
}
