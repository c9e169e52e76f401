// terra_lab JupyterLab extension: the launcher's THEIA section (workshop notebooks and dashboards),
// first in the launcher, with an icon and a short label per card in JupyterLab's language (FR or EN).
import { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ILauncher } from "@jupyterlab/launcher";
import { ServerConnection } from "@jupyterlab/services";
import { ITranslator } from "@jupyterlab/translation";

import { Theme, dashboardIcon, notebookIcon } from "./icons";

type Lang = "fr" | "en";
type Words = Record<Lang, string>;

const SECTION: Words = { fr: "Ateliers THEIA", en: "THEIA workshops" };

// notebook file, icon, label
const NOTEBOOKS: Array<[string, Theme, Words]> = [
  ["quickstart.ipynb", "quickstart", { fr: "Prise en main", en: "Quick start" }],
  ["map_search.ipynb", "search", { fr: "Recherche sur carte", en: "Search on a map" }],
  ["snow.ipynb", "snow", { fr: "Neige", en: "Snow" }],
  ["water.ipynb", "water", { fr: "Eau", en: "Water" }],
  ["forest.ipynb", "forest", { fr: "Santé des forêts", en: "Forest health" }],
  ["biodiversity_landscape.ipynb", "biodiversity", { fr: "Biodiversité", en: "Biodiversity" }],
  ["landcover.ipynb", "landcover", { fr: "Occupation du sol", en: "Land cover" }],
  ["niche_model.ipynb", "niche", { fr: "Niche d'espèce", en: "Species niche" }],
];

// the Panel dashboards, served by `terra-lab workshop serve` behind jupyter-server-proxy:
// URL path (terra_lab.dashboards.THEMES), icon, label
const DASHBOARDS: Array<[string, Theme, Words]> = [
  ["snow", "snow", { fr: "Tableau de bord neige", en: "Snow dashboard" }],
  ["water", "water", { fr: "Tableau de bord eau", en: "Water dashboard" }],
  ["forest", "forest", { fr: "Tableau de bord forêts", en: "Forest dashboard" }],
  ["biodiversity", "biodiversity", { fr: "Tableau de bord biodiversité", en: "Biodiversity dashboard" }],
];

// where jupyter-server-proxy serves them (terra_lab/dashboards/_proxy.py, the entry point's name)
const PROXY_PATH = "terra-lab-workshops/";

// before JupyterLab's own sections (Notebook is 0): the workshops are what attendees come for
const CATEGORY_RANK = -10;

function languageOf(translator: ITranslator | null): Lang {
  return (translator?.languageCode ?? "en").toLowerCase().startsWith("fr") ? "fr" : "en";
}

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

// Start the dashboard server in the background as soon as a launcher shows (JupyterLab opening on
// one, or a new one): jupyter-server-proxy starts it on the first request, and it loads every
// theme's code at once (terra_lab/dashboards/_proxy.py), so that the attendee's first click on a
// dashboard card no longer waits for Python, Panel and the workflows to load.  A JupyterLab opened
// on a notebook starts nothing (a dashboard server holds about 400 MB).
function warmDashboardsWhenALauncherShows(app: JupyterFrontEnd): void {
  let started = false;
  const warm = () => {
    if (started) {
      return;
    }
    started = true;
    const settings = app.serviceManager.serverSettings;
    ServerConnection.makeRequest(`${settings.baseUrl}${PROXY_PATH}`, { method: "GET" }, settings).catch(reason =>
      console.debug("terra_lab: the workshop dashboards did not start in advance", reason),
    );
  };
  app.commands.commandExecuted.connect((_, executed) => {
    if (executed.id === "launcher:create") {
      warm();
    }
  });
  void app.restored.then(() => {
    if (document.querySelector(".jp-Launcher")) {
      warm(); // a launcher restored with the workspace
    }
  });
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: "terra-lab-widgets:launcher",
  description: "The launcher's THEIA section: terra_lab's workshop notebooks and dashboards",
  autoStart: true,
  optional: [ILauncher, ITranslator],
  activate: (app: JupyterFrontEnd, launcher: ILauncher | null, translator: ITranslator | null) => {
    const lang = languageOf(translator);
    const category = SECTION[lang];
    NOTEBOOKS.forEach(([file, theme, words], rank) => {
      const command = `terra-lab:open-${file.replace(".ipynb", "")}`;
      const label = words[lang];
      app.commands.addCommand(command, {
        label,
        caption: lang === "fr" ? `Ouvrir le carnet « ${label} »` : `Open the ${label} notebook`,
        icon: notebookIcon(theme),
        execute: async () => {
          // the notebooks sit at the server root (make lab) or under notebooks/ (Binder, JupyterHub)
          const path = await firstExisting(app, [`notebooks/${file}`, file]);
          return app.commands.execute("docmanager:open", { path });
        },
      });
      launcher?.add({ command, category, rank, categoryRank: CATEGORY_RANK });
    });
    DASHBOARDS.forEach(([path, theme, words], i) => {
      const command = `terra-lab:dashboard-${path}`;
      const label = words[lang];
      app.commands.addCommand(command, {
        label,
        caption: lang === "fr" ? `${label}, dans un nouvel onglet` : `${label}, in a new browser tab`,
        icon: dashboardIcon(theme),
        execute: () => {
          // synchronous, in the click: a browser opens a new tab only on a user's gesture;
          // the dashboard in JupyterLab's language (terra_lab.dashboards reads ?lang=fr|en)
          window.open(`${app.serviceManager.serverSettings.baseUrl}${PROXY_PATH}${path}?lang=${lang}`, "_blank");
        },
      });
      launcher?.add({ command, category, rank: NOTEBOOKS.length + i, categoryRank: CATEGORY_RANK });
    });
    warmDashboardsWhenALauncherShows(app);
  },
};

export default plugin;
