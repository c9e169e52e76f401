// Build the prebuilt JupyterLab extension with @jupyterlab/builder, against the JupyterLab
// installed in the Python environment ($PYTHON, default python3): no network needed (the
// `jupyter labextension build` front end would look up core metadata online).
import { execFileSync } from "node:child_process";

const python = process.env.PYTHON || "python3";
const core = execFileSync(python, ["-c", "import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), 'staging'))"])
  .toString()
  .trim();
execFileSync("node", ["node_modules/@jupyterlab/builder/lib/build-labextension.js", "--core-path", core, "."], {
  stdio: "inherit",
});
