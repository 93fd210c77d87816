/** The time-lapse world, the video UNet (motion modules + LoRA) and the video metrics (issue 17). See README.md here. */
export * from './world';
export { DEFAULT_LORA_TARGETS, initLoRA, withLoRA } from './lora';
export type { LoRA, LoRAConfig } from './lora';
export { createVideoUNet, disposeVideoUNet, framePositions, initMotionModules, levelChannels, motionModule, videoTrainableVariables, videoUnetForward } from './motion';
export type { MotionConfig, VideoUNet } from './motion';
export { makeVideoTrainer, videoContext, videoTokens } from './train';
export type { VideoBatch, VideoTrainer } from './train';
export { PSNR_CAP, SSIM_SIGMA, SSIM_WINDOW, featureStats, frechetDistance, gaussianWindow1d, psnr, sqrtPsd, ssim, ssimChannel, symmetricEigen, traceSqrtProduct, videoPsnr } from './metrics';
export type { GaussianStats } from './metrics';
export {
  BACKGROUND_CHANGE_CLASSES, CLIP_HEADS, FRAME_HEADS, MOTION_CLASSES, VIDEO_FEATURES_FORMAT, clipFeatures, defaultVideoFeatureConfig, disposeVideoFeatureNets,
  fidLike, frameFeatures, fvdLike, initVideoFeatureNets, loadVideoFeatureNets, lpipsLike, pairedBootstrapFrechetDelta, serializeVideoFeatureNets, videoFeatureSets,
} from './features';
export type { FrechetDelta, HeadSpec, VideoFeatureConfig, VideoFeatureNets } from './features';
