// Checks the shipped Kubernetes deployments (deploy/kubernetes): each overlay rendered with
// `kubectl kustomize`, every object validated against the Kubernetes API schema offline
// (kubernetes-models), and every rule the service needs to be safe and to drain checked on the
// rendered objects. With --self-test, each rule is also shown to catch a manifest broken for it.
// Prints one line per failure and ends with "deploy: N passed, M failed".
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import * as apps from "kubernetes-models/apps/v1";
import * as core from "kubernetes-models/v1";
import * as policy from "kubernetes-models/policy/v1";
import * as networking from "kubernetes-models/networking.k8s.io/v1";

const root = process.argv[2] ?? "deploy/kubernetes";
const selfTest = process.argv.includes("--self-test");

const models = {
  "apps/v1": apps,
  v1: core,
  "policy/v1": policy,
  "networking.k8s.io/v1": networking,
};

/** The service's user in its image (Dockerfile: USER 1654). */
const USER = 1654;
/** Where the service's egress may go: DNS, PostgreSQL (and PgBouncer's port), and HTTPS for the key check. */
const EGRESS = new Set(["UDP/53", "TCP/53", "TCP/5432", "TCP/6432", "TCP/443"]);
const DEFAULT_SHUTDOWN_TIMEOUT = 10;

function render(overlay) {
  const text = execFileSync("kubectl", ["kustomize", overlay], { encoding: "utf8" });
  return parseAllDocuments(text).map((doc) => doc.toJS()).filter((o) => o);
}

function isService(container) {
  return /(^|\/)cloud-providers(:|@|$)/.test(container.image ?? "");
}

function env(container, name) {
  return (container.env ?? []).find((e) => e.name === name)?.value;
}

function workloads(objects) {
  return objects.filter((o) => ["Deployment", "StatefulSet", "DaemonSet"].includes(o.kind));
}

function containersOf(workload) {
  const spec = workload.spec.template.spec;
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

function matches(selector, labels) {
  return Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v) && Object.keys(selector?.matchLabels ?? {}).length > 0;
}

/** Each rule: a name, and a function that returns the problems it finds in one overlay's objects. */
const rules = {
  "every object is valid against the Kubernetes API schema": (objects) =>
    objects.flatMap((o) => {
      const Model = models[o.apiVersion]?.[o.kind];
      if (!Model) return [`${o.kind} ${o.metadata?.name}: no schema for ${o.apiVersion} ${o.kind}`];
      try {
        new Model(o).validate();
        return [];
      } catch (e) {
        return [`${o.kind} ${o.metadata?.name}: ${String(e.message).split("\n")[0]}`];
      }
    }),

  "service accounts and pods mount no API token": (objects) => [
    ...objects.filter((o) => o.kind === "ServiceAccount" && o.automountServiceAccountToken !== false).map((o) => `ServiceAccount ${o.metadata.name} mounts its token`),
    ...workloads(objects).filter((w) => w.spec.template.spec.automountServiceAccountToken !== false).map((w) => `${w.metadata.name}: the pod mounts a service account token`),
  ],

  "every container runs as uid 1654, non-root, without privilege, capabilities or a writable root": (objects) =>
    workloads(objects).flatMap((w) => {
      const pod = w.spec.template.spec.securityContext ?? {};
      return containersOf(w).flatMap((c) => {
        const s = c.securityContext ?? {};
        const problems = [];
        if ((s.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push("runAsNonRoot is not true");
        if ((s.runAsUser ?? pod.runAsUser) !== USER) problems.push(`runs as uid ${s.runAsUser ?? pod.runAsUser}, not ${USER}`);
        if (s.allowPrivilegeEscalation !== false) problems.push("allowPrivilegeEscalation is not false");
        if (s.readOnlyRootFilesystem !== true) problems.push("the root filesystem is writable");
        if (!(s.capabilities?.drop ?? []).includes("ALL")) problems.push("not every capability is dropped");
        if ((s.seccompProfile ?? pod.seccompProfile)?.type !== "RuntimeDefault") problems.push("seccomp is not RuntimeDefault");
        return problems.map((p) => `${w.metadata.name}/${c.name}: ${p}`);
      });
    }),

  "every container has requests and limits, and an image tag that is not latest": (objects) =>
    workloads(objects).flatMap((w) =>
      containersOf(w).flatMap((c) => {
        const problems = [];
        for (const kind of ["requests", "limits"]) {
          for (const resource of ["cpu", "memory"]) {
            if (!c.resources?.[kind]?.[resource]) problems.push(`no ${resource} ${kind}`);
          }
        }
        const tag = /^[^@]*:([^:/@]+)$/.exec(c.image ?? "")?.[1];
        if (!tag) problems.push(`image ${c.image} has no tag`);
        else if (tag === "latest") problems.push(`image ${c.image} is latest`);
        return problems.map((p) => `${w.metadata.name}/${c.name}: ${p}`);
      })),

  "the service's containers probe /healthz and /readyz and drain within the grace period": (objects) =>
    workloads(objects).flatMap((w) =>
      containersOf(w).filter(isService).flatMap((c) => {
        const problems = [];
        if (c.livenessProbe?.httpGet?.path !== "/healthz") problems.push("the liveness probe is not GET /healthz");
        if (c.readinessProbe?.httpGet?.path !== "/readyz") problems.push("the readiness probe is not GET /readyz");
        if (!c.startupProbe?.httpGet) problems.push("there is no startup probe");
        const drain = Number(env(c, "Shutdown__DrainSeconds") ?? 0);
        const timeout = Number(env(c, "Shutdown__TimeoutSeconds") ?? DEFAULT_SHUTDOWN_TIMEOUT);
        if (!(drain > 0)) problems.push("Shutdown__DrainSeconds is not set: a rolling update would cut requests");
        const grace = w.spec.template.spec.terminationGracePeriodSeconds ?? 30;
        if (!(grace > drain + timeout)) problems.push(`terminationGracePeriodSeconds ${grace} is not more than the drain and the timeout (${drain} + ${timeout})`);
        return problems.map((p) => `${w.metadata.name}/${c.name}: ${p}`);
      })),

  "secrets are mounted read-only with mode 0400, and only SQLite's folder is writable": (objects) =>
    workloads(objects).flatMap((w) => {
      const volumes = Object.fromEntries((w.spec.template.spec.volumes ?? []).map((v) => [v.name, v]));
      const problems = [];
      for (const v of Object.values(volumes)) {
        if (v.secret && v.secret.defaultMode !== 0o400) problems.push(`secret volume ${v.name} has defaultMode ${v.secret.defaultMode?.toString(8) ?? "unset (0644)"}, not 0400`);
      }
      for (const c of containersOf(w)) {
        for (const m of c.volumeMounts ?? []) {
          const v = volumes[m.name];
          if (v?.secret && m.readOnly !== true) problems.push(`${c.name}: secret ${m.name} is mounted writable`);
          if (m.readOnly === true || v?.secret) continue;
          const database = env(c, "Database__Path");
          const sqlite = isService(c) && env(c, "Database__Engine") !== "postgres" && database?.startsWith(m.mountPath.replace(/\/?$/, "/"));
          if (!sqlite) problems.push(`${c.name}: ${m.mountPath} is writable, but it is not SQLite's folder`);
        }
      }
      return problems.map((p) => `${w.metadata.name}: ${p}`);
    }),

  "a network policy lets in only the service's ports and out only DNS, PostgreSQL and HTTPS": (objects) =>
    workloads(objects).flatMap((w) => {
      const labels = w.spec.template.metadata?.labels;
      const policies = objects.filter((o) => o.kind === "NetworkPolicy" && matches(o.spec.podSelector, labels));
      if (policies.length === 0) return [`${w.metadata.name}: no network policy selects its pods`];
      const served = new Set(containersOf(w).filter((c) => c.restartPolicy !== "Always" || !isService(c)).flatMap((c) => (c.ports ?? []).map((p) => p.containerPort)));
      const serviceOnly = containersOf(w).every((c) => isService(c));
      return policies.flatMap((p) => {
        const problems = [];
        if (!(p.spec.policyTypes ?? []).includes("Ingress") || !(p.spec.policyTypes ?? []).includes("Egress")) problems.push("it does not govern both ingress and egress");
        for (const rule of p.spec.ingress ?? []) {
          if (!rule.ports?.length) problems.push("an ingress rule allows every port");
          for (const port of rule.ports ?? []) {
            if (!(serviceOnly ? containersOf(w).some((c) => (c.ports ?? []).some((q) => q.containerPort === port.port)) : served.has(port.port))) problems.push(`ingress to port ${port.port}, which no container of the pod serves to others`);
          }
        }
        for (const rule of p.spec.egress ?? []) {
          if (!rule.ports?.length) problems.push("an egress rule allows every port");
          for (const port of rule.ports ?? []) {
            if (!EGRESS.has(`${port.protocol ?? "TCP"}/${port.port}`)) problems.push(`egress to ${port.protocol ?? "TCP"} ${port.port}`);
          }
        }
        return problems.map((x) => `${w.metadata.name}: NetworkPolicy ${p.metadata.name}: ${x}`);
      });
    }),

  "a disruption budget keeps an instance of every workload": (objects) =>
    workloads(objects).filter((w) => !objects.some((o) => o.kind === "PodDisruptionBudget" && matches(o.spec.selector, w.spec.template.metadata?.labels)))
      .map((w) => `${w.metadata.name}: no PodDisruptionBudget selects its pods`),
};

/** What each overlay is for, checked on top of the rules every overlay keeps. */
const shapes = {
  fleet: (objects) => {
    const problems = [];
    const service = workloads(objects).find((w) => containersOf(w).some(isService));
    if (!service) return ["no workload runs the service"];
    if (service.spec.replicas !== 3) problems.push(`${service.spec.replicas} replicas, not 3`);
    const c = containersOf(service).find(isService);
    const secrets = new Set((service.spec.template.spec.volumes ?? []).filter((v) => v.secret).map((v) => v.name));
    const secretPaths = (c.volumeMounts ?? []).filter((m) => secrets.has(m.name)).map((m) => m.mountPath.replace(/\/?$/, "/"));
    if (env(c, "Database__Engine") !== "postgres" || !env(c, "Database__ConnectionString")) problems.push("not on PostgreSQL through Database__ConnectionString");
    for (const name of ["Database__PasswordFile", "Encryption__KeyFile"]) {
      const path = env(c, name);
      if (!path || !secretPaths.some((p) => path.startsWith(p))) problems.push(`${name} is not a file of a mounted Secret`);
    }
    return problems;
  },
  sidecar: (objects) => {
    const problems = [];
    const runtime = workloads(objects)[0];
    const sidecar = (runtime?.spec.template.spec.initContainers ?? []).find(isService);
    if (!sidecar || sidecar.restartPolicy !== "Always") problems.push("the service is not a native sidecar (an init container with restartPolicy: Always)");
    if (!(runtime?.spec.template.spec.containers ?? []).some((c) => (c.env ?? []).some((e) => /localhost:8080/.test(e.value ?? "")))) problems.push("no container reaches the sidecar over localhost");
    return problems;
  },
  edge: (objects) => {
    const problems = [];
    const service = workloads(objects).filter((w) => containersOf(w).some(isService));
    const writers = service.filter((w) => env(containersOf(w).find(isService), "Database__ReadOnly") !== "true");
    const replicas = service.filter((w) => env(containersOf(w).find(isService), "Database__ReadOnly") === "true");
    if (writers.length !== 1 || writers[0].spec.replicas !== 1 || writers[0].spec.strategy?.type !== "Recreate") problems.push("not exactly one writer, replaced by Recreate");
    if (replicas.length === 0) problems.push("no read-only replicas");
    return problems;
  },
};

function check(name, objects) {
  const failures = [];
  for (const [rule, find] of Object.entries(rules)) {
    for (const problem of find(objects)) failures.push(`${name}: ${rule}: ${problem}`);
  }
  for (const problem of shapes[name]?.(objects) ?? []) failures.push(`${name}: its shape: ${problem}`);
  return failures;
}

const overlays = readdirSync(join(root, "overlays")).sort();
let passed = 0;
let failed = 0;
const rendered = {};
for (const name of overlays) {
  try {
    rendered[name] = render(join(root, "overlays", name));
  } catch (e) {
    console.log(`${name}: kubectl kustomize failed: ${String(e.message).split("\n")[0]}`);
    failed++;
    continue;
  }
  const failures = check(name, rendered[name]);
  for (const failure of failures) console.log(failure);
  if (failures.length === 0) passed++;
  else failed++;
}

if (selfTest) {
  // Each mutation breaks one rule in a copy of a rendered overlay: the checks must catch it.
  const service = (objects) => workloads(objects).map((w) => containersOf(w).find(isService)).find((c) => c);
  const serviceWorkload = (objects) => workloads(objects).find((w) => containersOf(w).some(isService));
  const mutations = {
    "a writable root filesystem": ["fleet", (o) => { service(o).securityContext.readOnlyRootFilesystem = false; }],
    "an image tagged latest": ["fleet", (o) => { service(o).image = "registry.example.com/cloud-providers:latest"; }],
    "an image without a tag": ["edge", (o) => { service(o).image = "registry.example.com/cloud-providers"; }],
    "root as the user": ["fleet", (o) => { service(o).securityContext.runAsUser = 0; }],
    "privilege escalation": ["sidecar", (o) => { service(o).securityContext.allowPrivilegeEscalation = true; }],
    "capabilities kept": ["fleet", (o) => { delete service(o).securityContext.capabilities; }],
    "no seccomp profile": ["fleet", (o) => { delete service(o).securityContext.seccompProfile; delete serviceWorkload(o).spec.template.spec.securityContext.seccompProfile; }],
    "liveness on the wrong path": ["fleet", (o) => { service(o).livenessProbe.httpGet.path = "/readyz"; }],
    "no readiness probe": ["sidecar", (o) => { delete service(o).readinessProbe; }],
    "no startup probe": ["edge", (o) => { delete service(o).startupProbe; }],
    "a grace period shorter than the drain": ["fleet", (o) => { serviceWorkload(o).spec.template.spec.terminationGracePeriodSeconds = 10; }],
    "no drain": ["fleet", (o) => { service(o).env = service(o).env.filter((e) => e.name !== "Shutdown__DrainSeconds"); }],
    "no memory limit": ["fleet", (o) => { delete service(o).resources.limits.memory; }],
    "a service account token": ["fleet", (o) => { o.find((x) => x.kind === "ServiceAccount").automountServiceAccountToken = true; }],
    "a secret readable by all": ["fleet", (o) => { serviceWorkload(o).spec.template.spec.volumes.find((v) => v.secret).secret.defaultMode = 0o644; }],
    "a writable folder beside PostgreSQL": ["fleet", (o) => { serviceWorkload(o).spec.template.spec.volumes.push({ name: "scratch", emptyDir: {} }); service(o).volumeMounts.push({ name: "scratch", mountPath: "/scratch" }); }],
    "egress to SSH": ["fleet", (o) => { o.find((x) => x.kind === "NetworkPolicy").spec.egress.push({ ports: [{ protocol: "TCP", port: 22 }] }); }],
    "ingress to every port": ["edge", (o) => { o.find((x) => x.kind === "NetworkPolicy").spec.ingress.push({}); }],
    "no network policy": ["sidecar", (o) => { o.splice(o.findIndex((x) => x.kind === "NetworkPolicy"), 1); }],
    "no disruption budget": ["fleet", (o) => { o.splice(o.findIndex((x) => x.kind === "PodDisruptionBudget"), 1); }],
    "one replica in the fleet": ["fleet", (o) => { serviceWorkload(o).spec.replicas = 1; }],
    "the master key not from a Secret": ["fleet", (o) => { service(o).env.find((e) => e.name === "Encryption__KeyFile").value = "/data/master.key"; }],
    "a sidecar that is a plain init container": ["sidecar", (o) => { delete service(o).restartPolicy; }],
    "two writers at the edge": ["edge", (o) => { workloads(o).find((w) => w.metadata.name.endsWith("writer")).spec.replicas = 2; }],
    "a Deployment without containers (the API schema)": ["edge", (o) => { delete serviceWorkload(o).spec.template.spec.containers; }],
    "a Service port that is not a number (the API schema)": ["fleet", (o) => { o.find((x) => x.kind === "Service").spec.ports[0].port = "eighty"; }],
  };
  for (const [what, [overlay, mutate]] of Object.entries(mutations)) {
    if (!rendered[overlay]) continue;
    const copy = structuredClone(rendered[overlay]);
    let failures;
    try {
      mutate(copy);
      failures = check(overlay, copy);
    } catch (e) {
      failures = [`the check threw: ${e.message}`];
    }
    if (process.env.DEPLOY_CHECK_VERBOSE) console.log(`caught ${what}: ${failures[0]}`);
    if (failures.length > 0 && !failures[0].startsWith("the check threw")) passed++;
    else {
      failed++;
      console.log(`self-test: ${overlay} with ${what}: ${failures.length ? failures[0] : "not caught"}`);
    }
  }
}

console.log(`deploy: ${passed} passed, ${failed} failed`);
