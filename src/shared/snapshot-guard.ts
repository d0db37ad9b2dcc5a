/**
 * The guard of a `saveSnapshot` request (api.ts `requestGuards`): a name without a folder, the
 * views as drawn on the PNG, the review, and the PNG bytes within {@link MAX_SNAPSHOT_BYTES}.
 */
import { MAX_FILE_NAME, isLabelsId, isVolumeId } from './api-ids.js'
import {
  MAX_SNAPSHOT_BYTES,
  MAX_SNAPSHOT_SIDE,
  SNAPSHOT_VIEW_NAMES,
  type SaveSnapshotRequest,
  type SnapshotView,
} from './export.js'
import { hasKeys, isPlain, isText, opt } from './guard-kit.js'
import { isReviewRecord } from './label-review.js'

function isSnapshotView(x: unknown): x is SnapshotView {
  if (!isPlain(x) || !hasKeys(x, ['view', 'title', 'x', 'y', 'width', 'height'])) return false
  const within = (v: unknown, min: number): boolean =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= MAX_SNAPSHOT_SIDE
  return (
    (SNAPSHOT_VIEW_NAMES as readonly unknown[]).includes(x.view) &&
    isText(x.title, 256) &&
    within(x.x, 0) &&
    within(x.y, 0) &&
    within(x.width, 1) &&
    within(x.height, 1)
  )
}

/** True for a well-formed `saveSnapshot` request. */
export function isSaveSnapshot(x: unknown): x is SaveSnapshotRequest {
  return (
    isPlain(x) &&
    hasKeys(x, ['volumeId', 'name', 'views', 'bytes'], ['labelsId', 'review']) &&
    isVolumeId(x.volumeId) &&
    opt(x.labelsId, isLabelsId) &&
    isText(x.name, MAX_FILE_NAME) &&
    x.name.length > 0 &&
    !/[/\\]/.test(x.name) &&
    !x.name.startsWith('.') &&
    Array.isArray(x.views) &&
    x.views.length >= 1 &&
    x.views.length <= 8 &&
    x.views.every(isSnapshotView) &&
    (x.review === undefined || isReviewRecord(x.review)) &&
    x.bytes instanceof Uint8Array &&
    x.bytes.byteLength > 0 &&
    x.bytes.byteLength <= MAX_SNAPSHOT_BYTES
  )
}
