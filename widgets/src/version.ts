// The widget module of terra_lab's kernel-rendered map layers, and its version: the Python models
// (terra_lab/display/_kernel_layer.py FRONTEND_VERSION) ask for "^" this version.
export const MODULE_NAME = "terra-lab-widgets";
export const MODULE_VERSION = "0.1.0";
