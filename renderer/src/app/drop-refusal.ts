/**
 * Which dropped files the viewer sends to the core: judged from the name and size only, with the
 * core's own sentences, before any byte is read.
 */
import { formatBytes } from '../panels/dom.js'

/** Names a dropped file may have (the core checks again, and checks the content). */
const DROPPABLE = /\.(nii|nii\.gz|nrrd|mha)$/i

/**
 * Why a dropped file cannot be opened, judged from its name and size only, or undefined when it
 * can be sent. The same sentences as the core's (`src/service/uploads.ts`), so that a big
 * unsupported file is refused before its bytes are read.
 */
export function dropRefusal(
  file: { name: string; size: number },
  maxBytes: number,
): string | undefined {
  const { name, size } = file
  if (!DROPPABLE.test(name)) {
    if (/\.(dcm|dicom|ima)$/i.test(name) || !name.includes('.')) {
      return `${name}: single DICOM files can't be dropped; put the folder under --data and open it from the file list`
    }
    if (/\.(nhdr|mhd|hdr|img)$/i.test(name)) {
      return `${name}: this header keeps its voxels in a separate file, which a drop doesn't bring; put both files under --data`
    }
    return `${name}: only NIfTI (.nii, .nii.gz), NRRD (.nrrd) and MetaImage (.mha) files can be dropped`
  }
  if (name.startsWith('.') || /[/\\]/.test(name) || name.length > 255) {
    return `${name}: rename the file (no leading dot, at most 255 characters), then drop it again`
  }
  if (size === 0) return `${name}: the file is empty (or a folder; put folders under --data)`
  if (size > maxBytes) {
    return `${name}: ${formatBytes(size)} is more than a drop can carry (${formatBytes(maxBytes)}); put the file under --data and open it from the file list`
  }
  return undefined
}
