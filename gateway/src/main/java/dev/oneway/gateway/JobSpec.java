package dev.oneway.gateway;

import dev.oneway.common.JobRequest;
import java.util.Objects;

/** A validated POST /v1/jobs body: what the client asked for; null where it left the choice to the defaults. */
record JobSpec(String prompt, Long seed, Integer width, Integer height, Integer steps, String sampler, String model) {

    /** Whether an earlier job is the same request: every field this client named has the job's value. */
    boolean sameAs(JobRequest job) {
        return prompt.equals(job.prompt())
                && (seed == null || seed == job.seed())
                && (width == null || width == job.width())
                && (height == null || height == job.height())
                && (steps == null || steps == job.steps())
                && (sampler == null || Objects.equals(sampler, job.sampler()))
                && (model == null || Objects.equals(model, job.model()));
    }
}
