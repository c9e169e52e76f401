// Build the prebuilt JupyterLab extension with @jupyterlab/builder, against the JupyterLab
// installed in the Python environment ($PYTHON, default python3): no network needed (the
// `jupyter labextension build` front end would look up core metadata online).
import { execFileSync } from "node:child_process";

// $PYTHON, else the python of the surrounding build (pip puts the build env's packages on PYTHONPATH)
const code = "import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), 'staging'))";
let core = "";
for (const python of [process.env.PYTHON, "python3", "python"].filter(Boolean)) {
  try {
    core = execFileSync(python, ["-c", code], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    break;
  } catch {
    // not this interpreter: try the next one
  }
}
if (!core) {
  throw new Error("no Python with JupyterLab found: set PYTHON=/path/to/python (with jupyterlab installed)");
}
execFileSync("node", ["node_modules/@jupyterlab/builder/lib/build-labextension.js", "--core-path", core, "."], {
  stdio: "inherit",
});
