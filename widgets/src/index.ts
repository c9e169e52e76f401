// terra_lab's JupyterLab extension: the launcher entries and the map-layer widgets.
import launcherPlugin from "./plugin";
import widgetPlugin from "./widgets-plugin";

export default [launcherPlugin, widgetPlugin];
