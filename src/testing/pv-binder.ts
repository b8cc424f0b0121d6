// The PersistentVolume binder as the controller-manager runs it, for the tests of other components that need claims
// bound beside them (the scheduler's VolumeBinding): src/testing/ may import any component, the scheduler may not.
export { PersistentVolumeController } from '../controllers/volume/persistentvolume/pv-controller.js';
