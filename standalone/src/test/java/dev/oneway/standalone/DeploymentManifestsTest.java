package dev.oneway.standalone;

import static dev.oneway.standalone.DeploymentFiles.composeEnvironment;
import static dev.oneway.standalone.DeploymentFiles.composeMerge;
import static dev.oneway.standalone.DeploymentFiles.config;
import static dev.oneway.standalone.DeploymentFiles.container;
import static dev.oneway.standalone.DeploymentFiles.containerEnvironment;
import static dev.oneway.standalone.DeploymentFiles.containerPort;
import static dev.oneway.standalone.DeploymentFiles.kubernetesObject;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.oneway.common.KafkaSettings;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Shutdown;
import dev.oneway.common.Topics;
import dev.oneway.standalone.DeploymentFiles.Stage;
import dev.oneway.standalone.DeploymentFiles.Yaml;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * docker-compose.yml, docker-compose.cpu.yml, k8s/*.yaml and the Dockerfiles, held against the code they deploy:
 * the settings they set exist, the ports and probe paths are the ones the processes serve, the images are the
 * ones the Dockerfiles build, workers get a GPU and the time to finish a batch, and autoscaling stays within
 * what the jobs topic can feed.
 */
class DeploymentManifestsTest {

    static final String GATEWAY_DEPLOYMENT = "oneway-gateway";
    /** The worker pools: one k8s Deployment and one compose service per model. */
    static final Map<String, String> WORKER_POOLS = Map.of("oneway-worker-sd15", "worker-sd15", "oneway-worker-sd21", "worker-sd21");
    static final List<String> COMPOSE_ROLES = List.of("gateway", "worker-sd15", "worker-sd21");

    static Path root;
    static JsonNode compose;
    static Yaml cpuOverride;
    static JsonNode composeCpu;
    static List<JsonNode> k8s;

    @BeforeAll
    static void readDeploymentFiles() {
        root = DeploymentFiles.root();
        compose = DeploymentFiles.readSingleYaml(root.resolve("docker-compose.yml")).tree();
        cpuOverride = DeploymentFiles.readSingleYaml(root.resolve("docker-compose.cpu.yml"));
        composeCpu = composeMerge(compose, cpuOverride);
        k8s = DeploymentFiles.kubernetesObjects();
    }

    @Test
    void everyOnewayVariableTheDeploymentFilesSetIsASetting() {
        Map<String, String> unknown = new LinkedHashMap<>();
        Set<String> settings = DeploymentFiles.settingNames();
        Map<String, Set<String>> setBy = onewayVariablesSet();
        setBy.forEach((place, names) -> names.stream().filter(n -> !settings.contains(n)).forEach(n -> unknown.put(n, place)));

        assertTrue(setBy.values().stream().mapToInt(Set::size).sum() > 20,
                "the deployment files should set the Oneway settings; found only " + setBy);
        assertEquals(Map.of(), unknown, "variables set by deployment files that Setting.java does not know (variable=where)");
    }

    @Test
    void everyServiceAndContainerRunsWithValidSettings() {
        // OnewayConfig rejects what the processes would reject at start: a port that is no number, a bad key list.
        for (String service : COMPOSE_ROLES) {
            config(composeEnvironment(compose.path("services").path(service)));
            config(composeEnvironment(composeCpu.path("services").path(service)));
        }
        config(k8sEnvironment(GATEWAY_DEPLOYMENT, "gateway"));
        WORKER_POOLS.keySet().forEach(pool -> config(k8sEnvironment(pool, "worker")));
    }

    @Test
    void eachWorkerPoolServesOneOfTheGatewaysModelsAndTogetherTheyServeThemAll() {
        Set<String> gatewayModels = config(k8sEnvironment(GATEWAY_DEPLOYMENT, "gateway")).models().keySet();
        Set<String> k8sServed = new TreeSet<>();
        WORKER_POOLS.keySet().forEach(pool -> {
            Set<String> served = config(k8sEnvironment(pool, "worker")).models().keySet();
            assertEquals(1, served.size(), pool + " serves one model: " + served);
            k8sServed.addAll(served);
        });
        assertEquals(new TreeSet<>(gatewayModels), k8sServed, "k8s: every model the gateway accepts has a pool");
        assertEquals(2, k8sServed.size(), "two model pools");

        Set<String> composeGatewayModels = config(composeEnvironment(compose.path("services").path("gateway"))).models().keySet();
        Set<String> composeServed = new TreeSet<>();
        WORKER_POOLS.values().forEach(service ->
                composeServed.addAll(config(composeEnvironment(compose.path("services").path(service))).models().keySet()));
        assertEquals(new TreeSet<>(composeGatewayModels), composeServed, "compose: every model the gateway accepts has a pool");
    }

    @Test
    void theGatewayAnswersEveryHealthPathTheDeploymentFilesProbe(@TempDir Path dataDir) {
        Set<String> paths = new LinkedHashSet<>();
        JsonNode gateway = container(deployment(GATEWAY_DEPLOYMENT), "gateway");
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            if (gateway.has(probe)) {
                paths.add(gateway.path(probe).path("httpGet").path("path").asText());
            }
        }
        paths.add(healthcheckUrl(compose.path("services").path("gateway")).getPath());
        assertTrue(paths.containsAll(List.of("/health/live", "/health/ready")), "probed paths: " + paths);

        // Against the real gateway, over HTTP: a path the router does not serve answers 404.
        try (OnewaySystem system = OnewaySystem.builder().dataDir(dataDir).set(Setting.HTTP_PORT, 0).withoutWorkers().start();
             OnewayClient client = new OnewayClient(system.vertx(), system.httpPort())) {
            for (String path : paths) {
                OnewayClient.Reply reply = client.get(null, path);
                assertNotEquals(404, reply.status(), path + " is probed but the gateway does not serve it: " + reply.body());
                assertTrue(reply.status() == 200 || reply.status() == 503,
                        path + " should answer like a health endpoint (200 or 503), got " + reply.status());
            }
            assertEquals(404, client.get(null, "/health/not-a-probe").status(), "an unknown path must be 404, else this test proves nothing");
        }
    }

    @Test
    void theGatewayIsReachedOnItsConfiguredHttpPort() {
        JsonNode deployment = deployment(GATEWAY_DEPLOYMENT);
        JsonNode gateway = container(deployment, "gateway");
        int port = config(k8sEnvironment(GATEWAY_DEPLOYMENT, "gateway")).getInt(Setting.HTTP_PORT);
        assertTrue(containerPorts(gateway).contains(port), "the gateway container must expose ONEWAY_HTTP_PORT " + port);
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            if (gateway.has(probe)) {
                assertEquals(port, containerPort(gateway, gateway.path(probe).path("httpGet").path("port")), probe);
            }
        }
        JsonNode service = kubernetesObject(k8s, "Service", GATEWAY_DEPLOYMENT);
        assertTrue(matches(service.path("spec").path("selector"), podLabels(deployment)), "the Service must select the gateway pods");
        for (JsonNode p : service.path("spec").path("ports")) {
            assertEquals(port, containerPort(gateway, p.path("targetPort")), "Service targetPort");
        }

        JsonNode composeGateway = compose.path("services").path("gateway");
        int composePort = config(composeEnvironment(composeGateway)).getInt(Setting.HTTP_PORT);
        List<Integer> published = new ArrayList<>();
        composeGateway.path("ports").forEach(p -> {
            String[] parts = DeploymentFiles.interpolate(p.asText()).split(":");
            published.add(Integer.parseInt(parts[parts.length - 1]));
        });
        assertTrue(published.contains(composePort), "compose must publish the gateway's ONEWAY_HTTP_PORT " + composePort + ": " + published);
        assertEquals(composePort, healthcheckUrl(composeGateway).getPort(), "compose health check port");

        Stage image = finalStage(dockerfile("gateway/Dockerfile"));
        assertEquals(List.of(Integer.parseInt(Setting.HTTP_PORT.defaultValue())), image.exposedPorts(),
                "the gateway image exposes the default ONEWAY_HTTP_PORT");
    }

    @Test
    void theWorkerIsProbedOnItsHttpPortAtItsHealthPaths() {
        WORKER_POOLS.keySet().forEach(DeploymentManifestsTest::workerProbedOnItsHttpPort);
        for (JsonNode services : List.of(compose.path("services"), composeCpu.path("services"))) {
            for (String service : WORKER_POOLS.values()) {
                JsonNode composeWorker = services.path(service);
                URI health = healthcheckUrl(composeWorker);
                assertEquals(config(composeEnvironment(composeWorker)).getInt(Setting.WORKER_HTTP_PORT), health.getPort(), "compose worker health check port");
                assertEquals("/health/ready", health.getPath());
            }
        }

        int defaultPort = Integer.parseInt(Setting.WORKER_HTTP_PORT.defaultValue());
        for (String target : List.of("cpu", "gpu")) {
            assertEquals(List.of(defaultPort), stage(dockerfile("worker/Dockerfile"), target).exposedPorts(),
                    "the worker image (" + target + ") exposes the default ONEWAY_WORKER_HTTP_PORT");
        }
    }

    private static void workerProbedOnItsHttpPort(String pool) {
        JsonNode worker = container(deployment(pool), "worker");
        int port = config(k8sEnvironment(pool, "worker")).getInt(Setting.WORKER_HTTP_PORT);
        Map<String, String> expectedPaths = Map.of(
                "startupProbe", "/health/live", "livenessProbe", "/health/live", "readinessProbe", "/health/ready");
        assertTrue(worker.has("livenessProbe") && worker.has("readinessProbe"), "the worker needs liveness and readiness probes");
        expectedPaths.forEach((probe, path) -> {
            if (worker.has(probe)) {
                JsonNode get = worker.path(probe).path("httpGet");
                assertEquals(path, get.path("path").asText(), probe + " path");
                assertEquals(port, containerPort(worker, get.path("port")), probe + " port must be ONEWAY_WORKER_HTTP_PORT");
            }
        });
        assertTrue(containerPorts(worker).contains(port), "the worker container must expose ONEWAY_WORKER_HTTP_PORT " + port);
    }

    @Test
    void theWorkerAsksForAGpuAndTheCpuOverrideDropsIt() {
        WORKER_POOLS.forEach((pool, service) -> {
            JsonNode worker = container(deployment(pool), "worker");
            assertEquals(1, worker.path("resources").path("limits").path("nvidia.com/gpu").asInt(), "k8s worker GPU limit");
            assertEquals("gpu", config(k8sEnvironment(pool, "worker")).get(Setting.DEVICE),
                    "a k8s worker must not fall back to the CPU silently");
            workerGpuInComposeOnly(service);
        });
    }

    private static void workerGpuInComposeOnly(String service) {
        JsonNode gpuWorker = compose.path("services").path(service);
        assertTrue(requestsGpu(gpuWorker), "compose worker must reserve an NVIDIA GPU: " + gpuWorker.path("deploy"));
        assertEquals("gpu", config(composeEnvironment(gpuWorker)).get(Setting.DEVICE));
        assertEquals("gpu", gpuWorker.path("build").path("target").asText());

        JsonNode cpuWorker = composeCpu.path("services").path(service);
        assertFalse(requestsGpu(cpuWorker), "the CPU override must drop the GPU reservation: " + cpuWorker.path("deploy"));
        assertEquals("cpu", config(composeEnvironment(cpuWorker)).get(Setting.DEVICE));
        assertEquals("cpu", cpuWorker.path("build").path("target").asText());
        assertEquals("worker/Dockerfile", cpuWorker.path("build").path("dockerfile").asText(), "the override keeps the build");
        assertNotEquals(gpuWorker.path("image").asText(), cpuWorker.path("image").asText(),
                "the CPU and GPU worker images are different builds and need different names");
    }

    @Test
    void composeBuildsTheImagesTheKubernetesManifestsRun() {
        Map<String, String> deployments = new LinkedHashMap<>(Map.of("gateway", GATEWAY_DEPLOYMENT));
        WORKER_POOLS.forEach((pool, service) -> deployments.put(service, pool));
        for (String serviceName : deployments.keySet()) {
            String role = serviceName.startsWith("worker") ? "worker" : serviceName;
            JsonNode service = compose.path("services").path(serviceName);
            String dockerfile = service.path("build").path("dockerfile").asText();
            assertEquals(role + "/Dockerfile", dockerfile, role + " is built from its module's Dockerfile");
            assertEquals(".", service.path("build").path("context").asText(), "the Dockerfiles build from the repository root");
            List<Stage> stages = dockerfile(dockerfile);
            String target = service.path("build").path("target").asText(null);
            if (target != null) {
                assertTrue(DeploymentFiles.stage(stages, target).isPresent(), dockerfile + " has no stage " + target);
            }
            assertEquals(service.path("image").asText(), container(deployment(deployments.get(serviceName)), role).path("image").asText(),
                    "k8s runs the " + role + " image compose builds");
        }
        String cpuTarget = composeCpu.path("services").path("worker-sd15").path("build").path("target").asText();
        assertTrue(DeploymentFiles.stage(dockerfile("worker/Dockerfile"), cpuTarget).isPresent(), "worker/Dockerfile has no stage " + cpuTarget);
    }

    @Test
    void theDockerfilesBuildEveryModuleAndRunTheMainClassesThePomsPackage() throws Exception {
        List<String> modules = new ArrayList<>();
        NodeList moduleNodes = pom(root.resolve("pom.xml")).getElementsByTagName("module");
        for (int i = 0; i < moduleNodes.getLength(); i++) {
            modules.add(moduleNodes.item(i).getTextContent().trim());
        }
        Map<String, String> mainClasses = Map.of("gateway", "dev.oneway.gateway.GatewayMain", "worker", "dev.oneway.worker.WorkerMain");
        for (String role : List.of("gateway", "worker")) {
            List<Stage> stages = dockerfile(role + "/Dockerfile");
            Stage build = DeploymentFiles.stage(stages, "build").orElseThrow(() -> new AssertionError(role + "/Dockerfile has no build stage"));
            Set<String> copied = new TreeSet<>();
            build.arguments("COPY").forEach(args -> copied.add(args.split(" ")[0]));
            assertTrue(copied.containsAll(modules), role + "/Dockerfile must copy every module of the root pom " + modules + ", copies " + copied);

            // The jar the image runs is the one the module's pom packages, with the main class that exists.
            Document modulePom = pom(root.resolve(role + "/pom.xml"));
            Element jarPlugin = plugin(modulePom, "maven-jar-plugin");
            String jar = text((Element) modulePom.getElementsByTagName("build").item(0), "finalName") + ".jar";
            String mainClass = text(jarPlugin, "mainClass");
            assertEquals(mainClasses.get(role), mainClass, role + "/pom.xml manifest Main-Class");
            Class.forName(mainClass).getMethod("main", String[].class);
            assertEquals("lib/", text(jarPlugin, "classpathPrefix"), "the Dockerfiles copy the dependencies to lib/");
            for (Stage stage : runtimeStages(stages)) {
                List<String> entrypoint = stage.entrypoint();
                assertEquals(jar, entrypoint.get(entrypoint.size() - 1), role + " image runs " + entrypoint);
                assertTrue(entrypoint.containsAll(List.of("java", "-jar")), "exec-form java -jar, so SIGTERM reaches the JVM");
            }
        }
        // The workers run DJL offline, with libtorch unpacked at build time where PYTORCH_LIBRARY_PATH points.
        for (Stage stage : runtimeStages(dockerfile("worker/Dockerfile"))) {
            Map<String, String> env = stage.env();
            assertEquals("true", env.get("DJL_OFFLINE"), stage.name());
            assertTrue(stage.entrypoint().contains("-Dai.djl.offline=true"), stage.name());
            assertTrue(env.containsKey("PYTORCH_LIBRARY_PATH") && env.containsKey("PYTORCH_FLAVOR"), stage.name() + " " + env);
            assertTrue(stage.arguments("COPY").stream().anyMatch(c -> c.endsWith(env.get("PYTORCH_LIBRARY_PATH") + " " + env.get("PYTORCH_LIBRARY_PATH"))),
                    stage.name() + " must copy the unpacked libtorch to " + env.get("PYTORCH_LIBRARY_PATH"));
        }
    }

    @Test
    void kedaScalesEachWorkerPoolOnItsModelsJobsLagNoFurtherThanThePartitions() {
        WORKER_POOLS.keySet().forEach(DeploymentManifestsTest::kedaScalesPool);
    }

    private static void kedaScalesPool(String pool) {
        JsonNode scaled = kubernetesObject(k8s, "ScaledObject", pool);
        OnewayConfig worker = config(k8sEnvironment(pool, "worker"));
        String model = worker.models().keySet().iterator().next();
        assertEquals(pool, scaled.path("spec").path("scaleTargetRef").path("name").asText());
        int max = scaled.path("spec").path("maxReplicaCount").asInt(-1);
        assertTrue(max >= 1 && max <= worker.getInt(Setting.JOBS_PARTITIONS),
                "maxReplicaCount " + max + " must not exceed ONEWAY_JOBS_PARTITIONS " + worker.getInt(Setting.JOBS_PARTITIONS));
        assertTrue(scaled.path("spec").path("minReplicaCount").asInt(0) <= max);

        JsonNode triggers = scaled.path("spec").path("triggers");
        assertEquals(1, triggers.size());
        JsonNode kafka = triggers.get(0);
        assertEquals("kafka", kafka.path("type").asText());
        JsonNode metadata = kafka.path("metadata");
        assertEquals(worker.get(Setting.KAFKA_BOOTSTRAP), metadata.path("bootstrapServers").asText(), "KEDA must watch the workers' Kafka");
        assertEquals(KafkaSettings.groupConsumer(worker, model, "keda-check").get("group.id"), metadata.path("consumerGroup").asText(),
                "KEDA must watch the group of the pool's model");
        assertEquals(Topics.jobs(worker, model), metadata.path("topic").asText(), "KEDA must watch the pool's model's jobs topic");
        assertEquals(KafkaSettings.groupConsumer(worker, model, "keda-check").get("auto.offset.reset"), metadata.path("offsetResetPolicy").asText(),
                "KEDA must count lag the way the workers' consumers start reading");
        assertTrue(Integer.parseInt(metadata.path("lagThreshold").asText()) >= 1);

        // The gateway creates the jobs topic with the same partition count the autoscaler relies on.
        assertEquals(worker.getInt(Setting.JOBS_PARTITIONS), config(k8sEnvironment(GATEWAY_DEPLOYMENT, "gateway")).getInt(Setting.JOBS_PARTITIONS));
    }

    @Test
    void workersAndGatewaysHaveTimeToDrainWhenStopped() {
        List<String> names = new ArrayList<>(List.of(GATEWAY_DEPLOYMENT));
        names.addAll(WORKER_POOLS.keySet());
        for (String name : names) {
            String container = WORKER_POOLS.containsKey(name) ? "worker" : "gateway";
            long drain = drainSeconds(config(k8sEnvironment(name, container)));
            long k8sGrace = deployment(name).path("spec").path("template").path("spec").path("terminationGracePeriodSeconds").asLong();
            assertTrue(k8sGrace >= drain, name + ": terminationGracePeriodSeconds " + k8sGrace + " < drain time " + drain);
        }
        for (String service : COMPOSE_ROLES) {
            JsonNode definition = compose.path("services").path(service);
            long drain = drainSeconds(config(composeEnvironment(definition)));
            long composeGrace = DeploymentFiles.seconds(definition.path("stop_grace_period").asText(""));
            assertTrue(composeGrace >= drain, service + ": compose stop_grace_period " + composeGrace + " s < drain time " + drain);
        }
    }

    /** What a process takes at most after SIGTERM: its grace period, then closing its clients. */
    private static long drainSeconds(OnewayConfig config) {
        return (config.getInt(Setting.SHUTDOWN_GRACE_MS) + Shutdown.CLOSE_MARGIN_MS + 999) / 1000;
    }

    @Test
    void kubernetesObjectsFindEachOtherAndLiveInTheNamespace() {
        String namespace = k8s.stream().filter(o -> "Namespace".equals(o.path("kind").asText())).findFirst()
                .orElseThrow(() -> new AssertionError("k8s/ defines no Namespace")).path("metadata").path("name").asText();
        for (JsonNode o : k8s) {
            if (!"Namespace".equals(o.path("kind").asText())) {
                assertEquals(namespace, o.path("metadata").path("namespace").asText(), o.path("kind") + " " + o.path("metadata").path("name"));
            }
        }
        List<String> names = new ArrayList<>(List.of(GATEWAY_DEPLOYMENT));
        names.addAll(WORKER_POOLS.keySet());
        for (String name : names) {
            JsonNode deployment = deployment(name);
            assertTrue(matches(deployment.path("spec").path("selector").path("matchLabels"), podLabels(deployment)), name + " selector");
        }
        JsonNode gateway = deployment(GATEWAY_DEPLOYMENT);
        JsonNode pdb = kubernetesObject(k8s, "PodDisruptionBudget", GATEWAY_DEPLOYMENT);
        assertTrue(matches(pdb.path("spec").path("selector").path("matchLabels"), podLabels(gateway)), "the PDB must select the gateway pods");
        JsonNode hpa = kubernetesObject(k8s, "HorizontalPodAutoscaler", GATEWAY_DEPLOYMENT);
        assertEquals(GATEWAY_DEPLOYMENT, hpa.path("spec").path("scaleTargetRef").path("name").asText());
        assertTrue(hpa.path("spec").path("minReplicas").asInt() > pdb.path("spec").path("minAvailable").asInt(),
                "with minReplicas above minAvailable a node drain can always evict a gateway");
        assertFalse(container(gateway, "gateway").path("resources").path("requests").path("cpu").isMissingNode(),
                "a CPU-utilization HPA needs CPU requests");
        for (String pool : WORKER_POOLS.keySet()) {
            for (JsonNode volume : deployment(pool).path("spec").path("template").path("spec").path("volumes")) {
                if (volume.has("persistentVolumeClaim")) {
                    kubernetesObject(k8s, "PersistentVolumeClaim", volume.path("persistentVolumeClaim").path("claimName").asText());
                }
            }
        }
    }

    @Test
    void composeWiresKafkaMinioAndScalableWorkers() {
        JsonNode services = compose.path("services");
        for (String role : COMPOSE_ROLES) {
            OnewayConfig config = config(composeEnvironment(services.path(role)));
            assertEquals("kafka:" + listenerPort(services.path("kafka")), config.get(Setting.KAFKA_BOOTSTRAP), role + " must reach the kafka service");
            assertEquals(composeEnvironment(services.path("minio")).get("MINIO_ROOT_USER"), config.get(Setting.S3_ACCESS_KEY), role);
            assertEquals(composeEnvironment(services.path("minio")).get("MINIO_ROOT_PASSWORD"), config.get(Setting.S3_SECRET_KEY), role);
            assertEquals("http://minio:9000", config.get(Setting.S3_ENDPOINT), role);
            assertTrue(services.path("minio-init").path("command").toString().contains("/" + config.get(Setting.S3_BUCKET)),
                    "minio-init must create the bucket " + config.get(Setting.S3_BUCKET) + " that " + role + " uses");
            services.path(role).path("depends_on").fieldNames().forEachRemaining(dependency ->
                    assertTrue(services.has(dependency), role + " depends on a missing service " + dependency));
        }
        for (String service : WORKER_POOLS.values()) {
            JsonNode worker = services.path(service);
            assertFalse(worker.has("container_name"), "`--scale " + service + "=N` needs workers without a fixed container name");
            assertFalse(worker.has("ports"), "`--scale " + service + "=N` needs workers without published host ports");
            for (String folder : config(composeEnvironment(worker)).models().values()) {
                List<String> mounts = new ArrayList<>();
                worker.path("volumes").forEach(v -> mounts.add(DeploymentFiles.interpolate(v.asText()).split(":")[1]));
                assertTrue(mounts.stream().anyMatch(m -> folder.startsWith(m + "/") || folder.equals(m)),
                        service + ": the model folder " + folder + " must be inside a mounted volume: " + mounts);
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Every ONEWAY_* name each deployment file sets, by file and place. */
    static Map<String, Set<String>> onewayVariablesSet() {
        Map<String, Set<String>> setBy = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> file : Map.of("docker-compose.yml", compose, "docker-compose.cpu.yml", cpuOverride.tree()).entrySet()) {
            file.getValue().path("services").fields().forEachRemaining(s ->
                    setBy.put(file.getKey() + " " + s.getKey(), onewayNames(composeEnvironment(s.getValue()).keySet())));
        }
        for (JsonNode o : k8s) {
            String place = "k8s " + o.path("kind").asText() + " " + o.path("metadata").path("name").asText();
            Set<String> names = new TreeSet<>();
            if (List.of("ConfigMap", "Secret").contains(o.path("kind").asText())) {
                o.path("data").fieldNames().forEachRemaining(names::add);
                o.path("stringData").fieldNames().forEachRemaining(names::add);
            }
            o.path("spec").path("template").path("spec").path("containers").forEach(c ->
                    c.path("env").forEach(e -> names.add(e.path("name").asText())));
            setBy.put(place, onewayNames(names));
        }
        for (String dockerfile : List.of("gateway/Dockerfile", "worker/Dockerfile")) {
            for (Stage stage : dockerfile(dockerfile)) {
                setBy.put(dockerfile + " " + stage.name(), onewayNames(stage.env().keySet()));
            }
        }
        return setBy;
    }

    static Set<String> onewayNames(Set<String> names) {
        Set<String> oneway = new TreeSet<>();
        names.stream().filter(n -> n.startsWith("ONEWAY_")).forEach(oneway::add);
        return oneway;
    }

    static JsonNode deployment(String name) {
        return kubernetesObject(k8s, "Deployment", name);
    }

    static Map<String, String> k8sEnvironment(String deployment, String container) {
        return containerEnvironment(k8s, container(deployment(deployment), container));
    }

    static JsonNode podLabels(JsonNode deployment) {
        return deployment.path("spec").path("template").path("metadata").path("labels");
    }

    /** A label selector matches labels when every selector pair is among them. */
    static boolean matches(JsonNode selector, JsonNode labels) {
        if (selector.isEmpty()) {
            return false;
        }
        List<String> mismatched = new ArrayList<>();
        selector.fields().forEachRemaining(e -> {
            if (!e.getValue().asText().equals(labels.path(e.getKey()).asText(null))) {
                mismatched.add(e.getKey());
            }
        });
        return mismatched.isEmpty();
    }

    static Set<Integer> containerPorts(JsonNode container) {
        Set<Integer> ports = new TreeSet<>();
        container.path("ports").forEach(p -> ports.add(p.path("containerPort").asInt()));
        return ports;
    }

    /** The URL a compose health check fetches with curl (the argument that is a URL). */
    static URI healthcheckUrl(JsonNode service) {
        for (JsonNode arg : service.path("healthcheck").path("test")) {
            if (arg.asText().startsWith("http://")) {
                return URI.create(arg.asText());
            }
        }
        throw new AssertionError("no health check URL in " + service.path("healthcheck"));
    }

    static boolean requestsGpu(JsonNode service) {
        for (JsonNode device : service.path("deploy").path("resources").path("reservations").path("devices")) {
            for (JsonNode capability : device.path("capabilities")) {
                if ("gpu".equals(capability.asText())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The port of the PLAINTEXT listener the kafka service advertises as kafka:PORT. */
    static int listenerPort(JsonNode kafka) {
        String advertised = composeEnvironment(kafka).get("KAFKA_ADVERTISED_LISTENERS");
        for (String listener : advertised.split(",")) {
            if (listener.startsWith("PLAINTEXT://kafka:")) {
                return Integer.parseInt(listener.substring("PLAINTEXT://kafka:".length()));
            }
        }
        throw new AssertionError("kafka advertises no PLAINTEXT://kafka:PORT listener: " + advertised);
    }

    static List<Stage> dockerfile(String path) {
        Path file = root.resolve(path);
        assertTrue(Files.isRegularFile(file), path + " is missing");
        return DeploymentFiles.dockerfile(file);
    }

    static Stage stage(List<Stage> stages, String name) {
        return DeploymentFiles.stage(stages, name).orElseThrow(() -> new AssertionError("no stage " + name));
    }

    /** The stages that are images people run: those with an ENTRYPOINT. */
    static List<Stage> runtimeStages(List<Stage> stages) {
        List<Stage> runtime = stages.stream().filter(s -> !s.arguments("ENTRYPOINT").isEmpty()).toList();
        assertFalse(runtime.isEmpty(), "no stage with an ENTRYPOINT");
        return runtime;
    }

    static Stage finalStage(List<Stage> stages) {
        return stages.get(stages.size() - 1);
    }

    static Document pom(Path file) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
    }

    static Element plugin(Document pom, String artifactId) {
        NodeList plugins = pom.getElementsByTagName("plugin");
        for (int i = 0; i < plugins.getLength(); i++) {
            Element plugin = (Element) plugins.item(i);
            if (artifactId.equals(text(plugin, "artifactId"))) {
                return plugin;
            }
        }
        throw new AssertionError("no " + artifactId + " in " + pom.getDocumentURI());
    }

    static String text(Element parent, String tag) {
        NodeList nodes = parent.getElementsByTagName(tag);
        if (nodes.getLength() == 0) {
            throw new AssertionError("no <" + tag + "> in <" + parent.getTagName() + ">");
        }
        return nodes.item(0).getTextContent().trim();
    }
}
