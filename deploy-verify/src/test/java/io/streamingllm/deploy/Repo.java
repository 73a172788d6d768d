package io.streamingllm.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/** Paths of the deployment contract inside a repository (the real one or a copy). */
public final class Repo {
    public static final String RUN_SCRIPT = "scripts/run-sidecar.sh";
    public static final String COMPOSE_FILE = "docker/workflow-runner/streaming-llm.compose.yml";
    public static final String ENV_TEMPLATE = ".env.sidecar.example";
    public static final String ENV_FILE = ".env.sidecar";
    public static final String README = "README.md";
    public static final String TODO = "todo.md";
    public static final String SERVER_POM = "server/pom.xml";

    private Repo() {
    }

    /** The repository root: walks up from the working directory to the parent pom listing deploy-verify. */
    public static Path root() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path pom = dir.resolve("pom.xml");
            try {
                if (Files.isRegularFile(pom) && Files.readString(pom).contains("<module>deploy-verify</module>")) {
                    return dir;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no parent pom.xml with <module>deploy-verify</module> above " + Path.of("").toAbsolutePath());
    }

    /** The jar the server build produces: {@code server/target/<finalName>.jar} per server/pom.xml. */
    public static Path serverJar(Path root) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document pom = f.newDocumentBuilder().parse(root.resolve(SERVER_POM).toFile());
            Element project = pom.getDocumentElement();
            String finalName = text(child(child(project, "build"), "finalName"));
            if (finalName == null) {
                finalName = text(child(project, "artifactId")) + "-" + text(child(child(project, "parent"), "version"));
            }
            return root.resolve("server/target").resolve(finalName + ".jar");
        } catch (Exception e) {
            throw new IllegalStateException("cannot read " + root.resolve(SERVER_POM) + ": " + e.getMessage(), e);
        }
    }

    private static Element child(Element parent, String name) {
        if (parent == null) {
            return null;
        }
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    private static String text(Element e) {
        return e == null ? null : e.getTextContent().strip();
    }
}
