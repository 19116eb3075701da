import java.io.File;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import org.openapitools.client.ApiClient;
import org.openapitools.client.api.JobsApi;
import org.openapitools.client.model.Job;
import org.openapitools.client.model.JobStatus;
import org.openapitools.client.model.JobSubmission;

/**
 * What a user writes against the Java client that openapi-generator made from GET /openapi.yaml (GeneratedClientTest
 * compiles it with the generated sources): submit a job, poll it until it is finished, download its image from the
 * presigned URL in the job. Only the API key is configured; the server URL is the document's own.
 */
public class GeneratedClientUser implements Function<String, File> {

    @Override
    public File apply(String apiKey) {
        ApiClient client = new ApiClient()
                // The "native" library leaves authentication to a request interceptor.
                .setRequestInterceptor(request -> request.header("Authorization", "Bearer " + apiKey));
        JobsApi jobs = new JobsApi(client);
        try {
            Job job = jobs.submitJob(new JobSubmission().prompt("a lighthouse at dusk, oil painting").seed(42), null);
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (job.getStatus() == JobStatus.QUEUED || job.getStatus() == JobStatus.RUNNING) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("job " + job.getId() + " did not finish: " + job);
                }
                Thread.sleep(200);
                job = jobs.getJob(job.getId());
            }
            if (job.getStatus() != JobStatus.SUCCEEDED) {
                throw new IllegalStateException("job " + job.getId() + " ended " + job);
            }
            // The JDK's HttpClient would carry the API key along GET /v1/jobs/{id}/image's redirect, which the storage
            // server refuses (the document says so): the job's presigned URL needs no key.
            Path png = Files.createTempFile("oneway-", ".png");
            HttpResponse<Path> image = client.getHttpClient().send(
                    HttpRequest.newBuilder(job.getResult().getUrl()).GET().build(), HttpResponse.BodyHandlers.ofFile(png));
            if (image.statusCode() != 200) {
                throw new IllegalStateException("GET " + job.getResult().getUrl() + " answered " + image.statusCode());
            }
            return png.toFile();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
