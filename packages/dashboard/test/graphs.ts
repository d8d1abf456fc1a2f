// API-format graphs of the engine's real nodes (test nodes included) for the dashboard's browser tests.

export const MODEL = 'dash-test-model.safetensors';
/** The gallery's own model, so MODEL is still cold when the load-time test runs. */
export const GALLERY_MODEL = 'dash-gallery-model.safetensors';

const solid = (color: number) => ({
  class_type: 'EmptyImage',
  inputs: { width: 64, height: 48, batch_size: 1, color },
});

/** One output of every kind: a still, two animations, a video, a sound, a custom text file. */
export const galleryGraph = {
  '1': solid(0x2563eb),
  '2': solid(0xf59e0b),
  '3': { class_type: 'ImageBatch', inputs: { image1: ['1', 0], image2: ['2', 0] } },
  '4': { class_type: 'SaveImage', inputs: { images: ['11', 0], filename_prefix: 'still' } },
  '10': { class_type: 'EngineTestCheckpointLoader', inputs: { ckpt_name: GALLERY_MODEL } },
  '11': {
    class_type: 'EngineTestRender',
    inputs: { model: ['10', 0], width: 64, height: 48, seconds: 0.1 },
  },
  '5': {
    class_type: 'SaveAnimatedWEBP',
    inputs: {
      images: ['3', 0],
      filename_prefix: 'anim',
      fps: 4,
      lossless: true,
      quality: 80,
      method: 'default',
    },
  },
  '6': {
    class_type: 'SaveAnimatedPNG',
    inputs: { images: ['3', 0], filename_prefix: 'anim', fps: 4, compress_level: 4 },
  },
  '7': { class_type: 'EngineTestSaveVideo', inputs: { images: ['3', 0], filename_prefix: 'clip', fps: 4 } },
  '8': {
    class_type: 'EngineTestSaveAudio',
    inputs: { filename_prefix: 'tone', seconds: 0.5, frequency: 440 },
  },
  '9': {
    class_type: 'EngineTestCustomOutput',
    inputs: { text: 'custom <b>notes</b>', filename_prefix: 'notes' },
  },
};

/** Loads the test checkpoint (cold: LOAD_MS), then renders with it for a moment. */
export const loaderGraph = {
  '1': { class_type: 'EngineTestCheckpointLoader', inputs: { ckpt_name: MODEL } },
  '2': { class_type: 'EngineTestRender', inputs: { model: ['1', 0], width: 32, height: 32, seconds: 0.3 } },
  '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'rendered' } },
};
