/**
 * The label surfaces of the 3-D view live in core (src/core/segmentation/surfaces.ts), shared with
 * the mesh export so that an exported STL/OBJ is the surface the view shows.
 */
export * from '../../../src/core/segmentation/surfaces.js'
