package dev.oneway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.oneway.cli.GatewayClient.GatewayException;
import dev.oneway.cli.GatewayClient.Reply;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code oneway generate "a red fox" -o fox.png} and {@code oneway status ID}: a client of a Oneway gateway.
 * It submits over HTTP, follows the job over the WebSocket (reading the job instead whenever no event
 * comes, so a lost socket or a missed event costs only a little time), and downloads the PNG.
 */
public final class OnewayCli {

    static final String DEFAULT_SERVER = "http://localhost:8080";
    /** The key of the standalone's demo tenant. */
    static final String DEFAULT_KEY = "demo-key";
    static final String KEY_VARIABLE = "ONEWAY_KEY";

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    private static final Set<String> TERMINAL = Set.of("succeeded", "failed", "canceled");
    private static final long CHECK_EVERY_MS = 2000;
    private static final Map<String, String> JOB_OPTIONS = Map.of(
            "--seed", "seed", "--width", "width", "--height", "height", "--steps", "steps");

    static final String USAGE_TEXT = """
            usage: oneway generate "PROMPT" [-o FILE] [--model NAME] [--seed N] [--width N] [--height N] [--steps N]
                                   [--sampler tiue|looped] [--decoder vae|taesd] [--webhook URL]
                                   [--timeout SECONDS] [--server URL] [--key KEY]
                   oneway status JOB_ID [--server URL] [--key KEY]
                   oneway models [--server URL] [--key KEY]
                   ./oneway serve   (the script in the repository: runs the whole system in one JVM)

            generate  submits a job, prints its states and a progress bar as they happen, and saves the PNG
                      (default FILE: JOB_ID.png); --webhook: a URL that gets the finished job as a signed POST
            status    prints the job as JSON
            models    prints the models jobs may name, with their limits and workers, as JSON
            --server  the gateway (default %s)
            --key     the API key (default: $%s, else %s)
            """.formatted(DEFAULT_SERVER, KEY_VARIABLE, DEFAULT_KEY);

    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, String> env;

    public OnewayCli(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = env;
    }

    public static void main(String[] args) {
        System.exit(new OnewayCli(System.out, System.err, System.getenv()).run(args));
    }

    /** Runs one command; returns the exit status: 0 done, 1 the gateway or the job failed, 2 a usage error. */
    public int run(String[] args) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("oneway: " + e.getMessage());
            err.print(USAGE_TEXT);
            return USAGE;
        }
        if (options.command.equals("help")) {
            out.print(USAGE_TEXT);
            return OK;
        }
        GatewayClient gateway = new GatewayClient(options.server, options.key(env));
        try {
            return switch (options.command) {
                case "generate" -> generate(gateway, options);
                case "models" -> models(gateway);
                default -> status(gateway, options.argument);
            };
        } catch (GatewayException e) {
            err.println("oneway: " + e.getMessage());
            return FAILED;
        }
    }

    private int status(GatewayClient gateway, String id) throws GatewayException {
        Reply reply = gateway.job(id);
        if (!reply.ok()) {
            err.println("oneway: " + reply.error());
            return FAILED;
        }
        out.println(reply.body().toPrettyString());
        return OK;
    }

    private int models(GatewayClient gateway) throws GatewayException {
        Reply reply = gateway.models();
        if (!reply.ok()) {
            err.println("oneway: " + reply.error());
            return FAILED;
        }
        out.println(reply.body().toPrettyString());
        return OK;
    }

    private int generate(GatewayClient gateway, Options options) throws GatewayException {
        BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
        // Listening before submitting, so no event of the new job can pass unheard.
        WebSocket socket = gateway.events(frames);
        try {
            Reply submitted = gateway.submit(options.job);
            if (!submitted.ok()) {
                err.println("oneway: " + submitted.error());
                return FAILED;
            }
            JsonNode job = submitted.body();
            String id = job.path("id").asText();
            out.printf("job %s queued (seed %d, %dx%d, %d steps, %s, %s decoder%s)%n", id, job.path("seed").asLong(),
                    job.path("width").asInt(), job.path("height").asInt(), job.path("steps").asInt(),
                    job.path("sampler").asText(), job.path("decoder").asText("vae"),
                    job.hasNonNull("model") ? ", model " + job.path("model").asText() : "");
            if (socket == null) {
                out.println("(no WebSocket to " + gateway.server() + "; reading the job every "
                        + CHECK_EVERY_MS / 1000 + " s instead)");
            }
            JsonNode finished = follow(gateway, id, frames, options.timeoutSeconds);
            if (finished == null) {
                err.println("oneway: job " + id + " did not finish within " + options.timeoutSeconds
                        + " s; see `oneway status " + id + "`");
                return FAILED;
            }
            return switch (finished.path("status").asText()) {
                case "succeeded" -> save(gateway, id, options.output != null ? options.output : Path.of(id + ".png"));
                case "failed" -> {
                    JsonNode error = finished.path("error");
                    err.println("oneway: job " + id + " failed: " + error.path("message").asText()
                            + " (" + error.path("code").asText() + ")");
                    yield FAILED;
                }
                default -> {
                    err.println("oneway: job " + id + " was canceled");
                    yield FAILED;
                }
            };
        } finally {
            if (socket != null) {
                socket.abort();
            }
        }
    }

    /** Prints each change of the job's state until it finishes; returns its last state, or null on timeout. */
    private JsonNode follow(GatewayClient gateway, String id, BlockingQueue<JsonNode> frames, long timeoutSeconds)
            throws GatewayException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        String status = "queued";
        while (System.nanoTime() < deadline) {
            JsonNode update;
            try {
                update = frames.poll(CHECK_EVERY_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            if (update == null) {
                Reply reply = gateway.job(id);  // quiet for a while: ask, in case an event was missed
                if (!reply.ok()) {
                    throw new GatewayException(reply.error(), null);
                }
                update = reply.body();
            } else if (!id.equals(update.path("id").asText())) {
                continue;  // another job of this tenant, or an error frame about something else
            }
            String now = update.path("status").asText(status);
            if ("job.progress".equals(update.path("type").asText())) {
                JsonNode progress = update.path("progress");
                out.println("job " + id + " " + progressBar(progress.path("done").asInt(), progress.path("total").asInt())
                        + " " + progress.path("stage").asText());
            } else if (!now.equals(status)) {
                String batch = update.has("batchSize") && now.equals("running")
                        ? " (batch of " + update.path("batchSize").asInt() + ")" : "";
                out.println("job " + id + " " + now + batch);
            }
            status = now;
            if (TERMINAL.contains(status)) {
                return update;
            }
        }
        return null;
    }

    /** "[##########..........]  50%": how far the engine is with the job's batch, in stages. */
    static String progressBar(int done, int total) {
        int width = 20;
        double fraction = total <= 0 ? 0 : Math.max(0, Math.min(1, done / (double) total));
        int filled = (int) Math.round(fraction * width);
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + String.format("%3d%%", Math.round(fraction * 100));
    }

    /** Asks the image endpoint for a fresh link, downloads it and writes the file. */
    private int save(GatewayClient gateway, String id, Path output) throws GatewayException {
        HttpResponse<String> link = gateway.imageLink(id);
        String location = link.headers().firstValue("Location").orElse(null);
        if (link.statusCode() != 302 || location == null) {
            try {
                err.println("oneway: " + new Reply(link.statusCode(), GatewayClient.JSON.readTree(link.body())).error());
            } catch (IOException e) {
                err.println("oneway: the image of job " + id + " answered HTTP " + link.statusCode());
            }
            return FAILED;
        }
        byte[] png = gateway.download(gateway.server().resolve(location));
        try {
            Path parent = output.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.write(output, png);
        } catch (IOException e) {
            err.println("oneway: cannot write " + output + ": " + e.getMessage());
            return FAILED;
        }
        out.println("saved " + output + " (" + png.length + " bytes)");
        return OK;
    }

    /** The command line, checked before anything is sent. */
    static final class Options {
        String command;
        String argument;
        URI server = URI.create(DEFAULT_SERVER);
        String key;
        Path output;
        long timeoutSeconds = 600;
        final ObjectNode job = GatewayClient.JSON.createObjectNode();

        String key(Map<String, String> env) {
            if (key != null) {
                return key;
            }
            String fromEnv = env.get(KEY_VARIABLE);
            return fromEnv != null && !fromEnv.isBlank() ? fromEnv : DEFAULT_KEY;
        }

        static Options parse(String[] args) {
            Options options = new Options();
            List<String> positional = new ArrayList<>();
            Map<String, String> named = new HashMap<>();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                if (arg.equals("-h") || arg.equals("--help") || arg.equals("help")) {
                    options.command = "help";
                    return options;
                }
                if (arg.startsWith("-") && arg.length() > 1 && !isNumber(arg)) {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(arg + " needs a value");
                    }
                    named.put(arg, args[++i]);
                } else {
                    positional.add(arg);
                }
            }
            if (positional.isEmpty()) {
                throw new IllegalArgumentException("name a command: generate, status or models");
            }
            options.command = positional.get(0);
            if (!List.of("generate", "status", "models").contains(options.command)) {
                throw new IllegalArgumentException("unknown command '" + options.command + "'");
            }
            if (options.command.equals("models")) {
                if (positional.size() != 1) {
                    throw new IllegalArgumentException("models takes no argument");
                }
            } else if (positional.size() != 2) {
                throw new IllegalArgumentException(options.command.equals("generate")
                        ? "generate takes one prompt (quote it)" : "status takes one job id");
            }
            options.argument = positional.size() > 1 ? positional.get(1) : null;
            Set<String> allowed = options.command.equals("generate")
                    ? Set.of("-o", "--output", "--model", "--seed", "--width", "--height", "--steps", "--sampler",
                            "--decoder", "--webhook", "--timeout", "--server", "--key")
                    : Set.of("--server", "--key");
            for (Map.Entry<String, String> option : named.entrySet()) {
                String name = option.getKey();
                String value = option.getValue();
                if (!allowed.contains(name)) {
                    throw new IllegalArgumentException("unknown option " + name + " for " + options.command);
                }
                switch (name) {
                    case "-o", "--output" -> options.output = Path.of(value);
                    case "--sampler" -> options.job.put("sampler", value);
                    case "--webhook" -> options.job.put("webhook", value);
                    case "--decoder" -> options.job.put("decoder", value);
                    case "--model" -> options.job.put("model", value);
                    case "--timeout" -> options.timeoutSeconds = integer(name, value);
                    case "--server" -> options.server = server(value);
                    case "--key" -> options.key = value;
                    default -> options.job.put(JOB_OPTIONS.get(name), integer(name, value));
                }
            }
            if (options.command.equals("generate")) {
                options.job.put("prompt", options.argument);
            }
            return options;
        }

        private static long integer(String name, String value) {
            try {
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " takes an integer, got '" + value + "'");
            }
        }

        private static URI server(String value) {
            URI uri = URI.create(value.endsWith("/") ? value : value + "/");
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new IllegalArgumentException("--server takes an http:// or https:// URL, got '" + value + "'");
            }
            return uri;
        }

        private static boolean isNumber(String arg) {
            return arg.matches("-\\d+");
        }
    }
}
