package dev.oneway.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The lines the peer part reads from its two kinds of child process. */
class PeerParsingTest {

    @Test
    void theProbesResultLineReadsBackFieldByField() {
        RealSizeProbe.Result written = new RealSizeProbe.Result(0.9, 7.15, 4.10, 2.53, 5029, 3);
        String line = written.line();
        assertTrue(line.startsWith("RESULT "), line);
        // ChildJvm.await hands over the text after the prefix, trimmed
        assertEquals(written, RealSizeProbe.Result.parse(line.substring("RESULT".length()).trim()));
    }

    @Test
    void theAuthorsStageSplitIsReadWhereTheirScriptPrintsIt() {
        assertArrayEquals(new double[] {3.93, 2.51},
                PeerBench.authorsStages("image 0: 6.76 s, (3, 256, 256); text 0.31 s, unet 3.93 s, vae 2.51 s").orElseThrow());
        // at 512x512 their inference() runs as one call: no split
        assertTrue(PeerBench.authorsStages("image 0: 25.28 s, (3, 512, 512); text 0.28 s").isEmpty());
    }
}
