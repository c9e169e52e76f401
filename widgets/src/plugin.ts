// terra_lab JupyterLab extension: launcher entries for the THEIA workshop notebooks and dashboards.
import { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ILauncher } from "@jupyterlab/launcher";

const NOTEBOOKS: Array<[string, string]> = [
  ["Quick start", "quickstart.ipynb"],
  ["Search on a map", "map_search.ipynb"],
  ["Snow / Neige", "snow.ipynb"],
  ["Water / Eau", "water.ipynb"],
  ["Forest health / Santé des forêts", "forest_health.ipynb"],
  ["Biodiversity and landscape / Biodiversité et paysage", "biodiversity_landscape.ipynb"],
  ["Land cover / Occupation du sol", "land_cover.ipynb"],
  ["Species niche model / Modèle de niche", "niche_model.ipynb"],
];

// the Panel dashboards, served by `terra-lab workshop serve` behind jupyter-server-proxy
const DASHBOARDS: Array<[string, string]> = [
  ["Snow dashboard / Tableau de bord neige", "snow"],
  ["Water dashboard / Tableau de bord eau", "water"],
  ["Forest health dashboard / Tableau de bord forêt", "forest"],
  ["Biodiversity dashboard / Tableau de bord biodiversité", "biodiversity"],
];

const CATEGORY = "THEIA workshops";

async function firstExisting(app: JupyterFrontEnd, names: string[]): Promise<string> {
  for (const path of names) {
    try {
      await app.serviceManager.contents.get(path, { content: false });
      return path;
    } catch {
      // not there: try the next candidate
    }
  }
  return names[names.length - 1];
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: "terra-lab-widgets:launcher",
  description: "Launcher entries opening terra_lab's workshop notebooks",
  autoStart: true,
  optional: [ILauncher],
  activate: (app: JupyterFrontEnd, launcher: ILauncher | null) => {
    NOTEBOOKS.forEach(([label, file], rank) => {
      const command = `terra-lab:open-${file.replace(".ipynb", "")}`;
      app.commands.addCommand(command, {
        label: `terra_lab: ${label}`,
        caption: `Open the ${label} notebook (terra_lab)`,
        execute: async () => {
          // the notebooks sit at the server root (make lab) or under notebooks/ (Binder, JupyterHub)
          const path = await firstExisting(app, [`notebooks/${file}`, file]);
          return app.commands.execute("docmanager:open", { path });
        },
      });
      if (launcher) {
        launcher.add({ command, category: CATEGORY, rank });
      }
    });
    DASHBOARDS.forEach(([label, theme], i) => {
      const command = `terra-lab:dashboard-${theme}`;
      app.commands.addCommand(command, {
        label: `terra_lab: ${label}`,
        caption: `Open the ${theme} workshop dashboard in a new tab (Panel, through jupyter-server-proxy)`,
        execute: () => {
          const base = app.serviceManager.serverSettings.baseUrl;
          window.open(`${base}terra-lab-workshops/${theme}`, "_blank");
        },
      });
      if (launcher) {
        launcher.add({ command, category: CATEGORY, rank: NOTEBOOKS.length + i });
      }
    });
  },
};

export default plugin;
