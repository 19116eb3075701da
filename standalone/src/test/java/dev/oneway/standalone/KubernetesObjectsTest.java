package dev.oneway.standalone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * k8s/*.yaml read into the Kubernetes API's own types (fabric8's kubernetes-model, generated from the Kubernetes
 * OpenAPI schema), strictly: a field the API does not have (which {@code kubectl apply --validate=strict} refuses)
 * or a value of the wrong type fails. KEDA's ScaledObject is a custom resource outside that schema;
 * DeploymentManifestsTest checks its fields against the code.
 */
class KubernetesObjectsTest {

    /** No "8080" for 8080 and no 1 for "1": scalars must have the type the API declares. */
    static final ObjectMapper STRICT = JsonMapper.builder().disable(MapperFeature.ALLOW_COERCION_OF_SCALARS).build();
    static final String KEDA = "keda.sh/";

    @Test
    void everyObjectIsOfAKnownKindWithOnlyFieldsTheKubernetesApiHas() throws Exception {
        List<String> unknown = new ArrayList<>();
        TreeSet<String> kinds = new TreeSet<>();
        for (JsonNode object : DeploymentFiles.kubernetesObjects()) {
            String name = object.path("kind").asText() + " " + object.path("metadata").path("name").asText();
            if (object.path("apiVersion").asText().startsWith(KEDA)) {
                continue;
            }
            KubernetesResource resource = STRICT.treeToValue(object, KubernetesResource.class);
            assertFalse(resource instanceof GenericKubernetesResource, name + " is not a Kubernetes kind: " + object.path("apiVersion"));
            kinds.add(resource.getClass().getSimpleName());
            unknownFields(resource, name, unknown);
        }

        assertEquals(List.of(), unknown, "fields the Kubernetes API does not have");
        assertTrue(kinds.containsAll(List.of("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                "ConfigMap", "Secret", "Namespace")), "read: " + kinds);
    }

    @Test
    void aMisspelledFieldOrAWronglyTypedValueIsFound() throws Exception {
        JsonNode gateway = DeploymentFiles.kubernetesObject(DeploymentFiles.kubernetesObjects(), "Deployment", "oneway-gateway");
        ObjectNode misspelled = gateway.deepCopy();
        ((ObjectNode) misspelled.path("spec").path("template").path("spec").path("containers").get(0))
                .put("imagePulPolicy", "IfNotPresent");
        List<String> unknown = new ArrayList<>();

        unknownFields(STRICT.treeToValue(misspelled, KubernetesResource.class), "gateway", unknown);

        assertEquals(List.of("gateway/spec/template/spec/containers/0/imagePulPolicy"), unknown);
        ObjectNode wrongType = gateway.deepCopy();
        ((ObjectNode) wrongType.path("spec")).put("replicas", "two");
        assertThrows(MismatchedInputException.class, () -> STRICT.treeToValue(wrongType, KubernetesResource.class));
    }

    /** Collects the JSON paths of fields the model kept aside as "additional properties" (not in the API). */
    private static void unknownFields(Object value, String path, List<String> found) throws Exception {
        if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                unknownFields(e.getValue(), path + "/" + e.getKey(), found);
            }
            return;
        }
        if (value instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                unknownFields(item, path + "/" + i++, found);
            }
            return;
        }
        if (value == null || !value.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method getter : value.getClass().getMethods()) {
            if (getter.getParameterCount() != 0) {
                continue;
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                ((Map<?, ?>) getter.invoke(value)).keySet().forEach(k -> found.add(path + "/" + k));
            } else if (getter.isAnnotationPresent(JsonProperty.class)) {
                unknownFields(getter.invoke(value), path + "/" + getter.getAnnotation(JsonProperty.class).value(), found);
            }
        }
    }
}
