// Registers terra_lab's ipywidgets module ("terra-lab-widgets": the kernel-rendered map layers,
// extending jupyter-leaflet's) with the widget manager.  The layer code is loaded on first use, so
// the launcher plugin works even where jupyter-leaflet is missing.
import { IJupyterWidgetRegistry } from "@jupyter-widgets/base";
import { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";

import { MODULE_NAME, MODULE_VERSION } from "./version";

const widgetPlugin: JupyterFrontEndPlugin<void> = {
  id: "terra-lab-widgets:widgets",
  description: "terra_lab's map layers for ipyleaflet (tiles rendered in the kernel, sent over the widget comm)",
  autoStart: true,
  requires: [IJupyterWidgetRegistry],
  activate: (_app: JupyterFrontEnd, registry: IJupyterWidgetRegistry) => {
    registry.registerWidget({
      name: MODULE_NAME,
      version: MODULE_VERSION,
      exports: () => import("./kernel-layer") as any,
    });
  },
};

export default widgetPlugin;
