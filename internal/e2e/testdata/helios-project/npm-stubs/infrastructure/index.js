// Stub for @helios-project/infrastructure, which is not on the npm registry.
// @helios-project/cli 0.45.2 imports these 14 names statically (dist/commands/job.js),
// so they must exist; only `helios job run` uses them, never `render` or `merge`.
const stub = (name) => class {
  constructor() { throw new Error(`@helios-project/infrastructure stub: ${name} is not available`); }
};
export const JobExecutor = stub('JobExecutor');
export const LocalWorkerAdapter = stub('LocalWorkerAdapter');
export const AwsLambdaAdapter = stub('AwsLambdaAdapter');
export const CloudRunAdapter = stub('CloudRunAdapter');
export const CloudflareWorkersAdapter = stub('CloudflareWorkersAdapter');
export const AzureFunctionsAdapter = stub('AzureFunctionsAdapter');
export const FlyMachinesAdapter = stub('FlyMachinesAdapter');
export const KubernetesAdapter = stub('KubernetesAdapter');
export const DockerAdapter = stub('DockerAdapter');
export const DenoDeployAdapter = stub('DenoDeployAdapter');
export const VercelAdapter = stub('VercelAdapter');
export const ModalAdapter = stub('ModalAdapter');
export const HetznerCloudAdapter = stub('HetznerCloudAdapter');
export const CloudflareSandboxAdapter = stub('CloudflareSandboxAdapter');
