package dev.oneway.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.errors.ErrorResponseException;
import io.minio.http.Method;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedInfrastructureTest {

    @TempDir
    Path dataDir;

    @Test
    void freePortsNeverRepeatAPortWithinAProcessAndEachCanBeBound() throws Exception {
        // The kernel hands a just-closed ephemeral port out again; a broker once got the same port for its two
        // listeners and refused to start.
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            int port = FreePorts.next();
            assertTrue(seen.add(port), "port " + port + " given twice");
        }
        int port = FreePorts.next();
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            assertEquals(port, socket.getLocalPort());
        }
    }

    @Test
    void aRecordProducedToTheEmbeddedBrokerIsConsumedAndSurvivesARestart() throws Exception {
        try (EmbeddedKafka kafka = new EmbeddedKafka(dataDir).start()) {
            kafka.createTopic("greetings", 3);
            kafka.createTopic("greetings", 3); // creating an existing topic is harmless

            produce(kafka, "greetings", "k1", "hello");
            assertEquals(List.of("hello"), consumeAll(kafka, "greetings", 1));

            String before = kafka.bootstrapServers();
            kafka.restart();
            assertEquals(before, kafka.bootstrapServers(), "clients keep their bootstrap address");
            produce(kafka, "greetings", "k2", "again");
            assertEquals(List.of("again", "hello").stream().sorted().toList(),
                    consumeAll(kafka, "greetings", 2).stream().sorted().toList());
        }
    }

    @Test
    void objectsArePutReadAndPresignedWithTheMinioClientAndSurviveARestart() throws Exception {
        try (EmbeddedS3 s3 = new EmbeddedS3(dataDir, "oneway", "oneway-secret").start()) {
            MinioClient minio = MinioClient.builder().endpoint(s3.endpoint()).region("us-east-1")
                    .credentials("oneway", "oneway-secret").build();
            assertFalse(minio.bucketExists(BucketExistsArgs.builder().bucket("images").build()));
            minio.makeBucket(MakeBucketArgs.builder().bucket("images").build());
            byte[] png = "not really a png".getBytes(StandardCharsets.UTF_8);
            minio.putObject(PutObjectArgs.builder().bucket("images").object("images/alpha/job-1.png")
                    .stream(new ByteArrayInputStream(png), png.length, -1).contentType("image/png").build());

            StatObjectResponse stat = minio.statObject(StatObjectArgs.builder().bucket("images").object("images/alpha/job-1.png").build());
            assertEquals(png.length, stat.size());
            assertEquals("image/png", stat.contentType());
            try (InputStream in = minio.getObject(GetObjectArgs.builder().bucket("images").object("images/alpha/job-1.png").build())) {
                assertArrayEquals(png, in.readAllBytes());
            }

            s3.restart();
            String url = minio.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder().method(Method.GET)
                    .bucket("images").object("images/alpha/job-1.png").expiry(600).build());
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<byte[]> signed = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, signed.statusCode());
            assertArrayEquals(png, signed.body());

            String unsigned = s3.endpoint() + "/images/images/alpha/job-1.png";
            HttpResponse<byte[]> anonymous = http.send(HttpRequest.newBuilder(URI.create(unsigned)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(403, anonymous.statusCode(), "objects are not public");
        }
    }

    @Test
    void wrongCredentialsAreRejected() throws Exception {
        try (EmbeddedS3 s3 = new EmbeddedS3(dataDir, "oneway", "oneway-secret").start()) {
            MinioClient wrong = MinioClient.builder().endpoint(s3.endpoint()).region("us-east-1")
                    .credentials("oneway", "guessed").build();
            ErrorResponseException e = assertThrows(ErrorResponseException.class,
                    () -> wrong.makeBucket(MakeBucketArgs.builder().bucket("images").build()));
            assertEquals(403, e.response().code());
        }
    }

    private static void produce(EmbeddedKafka kafka, String topic, String key, String value) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        }
    }

    private static List<String> consumeAll(EmbeddedKafka kafka, String topic, int expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
            }
        }
        return values;
    }
}
