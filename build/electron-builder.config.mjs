// electron-builder configuration of the VolSeg desktop app (issue 15). `npm run package` builds
// the installers on a machine with internet (see build/README.md); `npm run package:check`
// validates this file with electron-builder's own schema offline.
//
// Security (GUIDE §3, E9/E11): release fuses flipped at package time; onnxruntime-node's native
// libraries are unpacked from the asar (a `.node` file cannot be dlopen'ed from inside an
// archive); the bundled model packs ship as plain files next to the asar.

/** @type {import('app-builder-lib').Configuration} */
const config = {
  appId: 'org.volseg.desktop',
  productName: 'VolSeg',
  executableName: 'volseg',
  copyright: 'VolSeg contributors',
  directories: { output: 'release', buildResources: 'build' },
  // What goes into app.asar: the built code only (`npm run build` made it), no sources or tests;
  // electron-builder adds the production dependencies of package.json itself.
  files: ['package.json', 'dist/**/*', '!dist/**/*.map', 'renderer/dist/**/*'],
  asar: true,
  // Native libraries must be real files; onnxruntime-node loads them lazily, in the worker only.
  asarUnpack: [
    'node_modules/onnxruntime-node/bin/**/*',
    'node_modules/onnxruntime-node/lib/**/*.node',
    '**/*.node',
  ],
  // Model packs stay outside the asar (the worker reads them with plain fs and checks sha256);
  // main points VOLSEG_MODELS at <resources>/models when packaged.
  extraResources: [
    {
      from: 'models/brain-extract',
      to: 'models/brain-extract',
      filter: ['model.onnx', 'model.json', 'LICENCE.md'],
    },
  ],
  // Release fuses (https://www.electronjs.org/docs/latest/tutorial/fuses).
  electronFuses: {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    grantFileProtocolExtraPrivileges: false,
  },
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Science;MedicalSoftware',
    maintainer: 'VolSeg contributors',
    synopsis: 'Offline 3-D medical image segmentation',
    mimeTypes: ['application/x-nifti', 'application/dicom'],
  },
  deb: { depends: ['libnss3', 'libgtk-3-0', 'libxss1', 'libasound2 | libasound2t64'] },
  appImage: { artifactName: '${productName}-${version}-${arch}.AppImage' },
  win: { target: ['nsis'] },
  nsis: {
    oneClick: false,
    perMachine: false,
    allowToChangeInstallationDirectory: true,
    artifactName: '${productName}-Setup-${version}.${ext}',
  },
  mac: { target: ['dmg'], category: 'public.app-category.medical', hardenedRuntime: true },
  dmg: { artifactName: '${productName}-${version}-${arch}.${ext}' },
  fileAssociations: [
    { ext: ['nii', 'nii.gz', 'nrrd', 'mha'], name: 'Medical image', role: 'Viewer' },
  ],
  // No auto-update and no publishing: installers are copied to workstations by hand.
  publish: null,
}

export default config
