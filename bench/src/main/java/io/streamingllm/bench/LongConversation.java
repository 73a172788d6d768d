package io.streamingllm.bench;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A long synthetic conversation for the recall evaluation: facts ("the code of my gym locker is 4471", a relative's
 * name, an appointment's date, ...) planted at random turns among filler turns, and for each fact a question about
 * it asked a chosen number of turns later. Filler reuses the facts' vocabulary (codes, names, lockers, appointments)
 * without their values, so finding a fact takes more than matching one word. Every fact's value is unique in the
 * conversation, so "the fact is in the prompt" is "its value is in the prompt". Deterministic for a seed.
 */
final class LongConversation {
    /** One user message; {@code fact} is set on the turn that states a fact and on the question about it. */
    record Line(String text, Fact fact, boolean question) {
    }

    /** A fact, the question about it and the value that answers it. */
    record Fact(String statement, String question, String value, int distance) {
    }

    private static final String[] PLACES = {"gym", "office", "pool", "station", "school", "library", "airport",
            "museum", "hostel", "hospital", "stadium", "market", "harbour", "campus", "theatre", "garage"};
    private static final String[] RELATIONS = {"sister", "brother", "cousin", "neighbour", "boss", "dentist", "landlord",
            "godmother", "nephew", "niece", "uncle", "aunt", "flatmate", "coach", "tutor", "doctor"};
    private static final String[] FIRST = {"Ingrid", "Tomasz", "Amara", "Kenji", "Lucia", "Oskar", "Priya", "Mateo",
            "Sigrun", "Dmitri", "Nadia", "Rafael", "Yusuf", "Helga", "Bruno", "Esther", "Farid", "Greta", "Ivo", "Jana"};
    private static final String[] LAST = {"Solberg", "Novak", "Okafor", "Tanaka", "Ferreira", "Lindqvist", "Rao",
            "Castillo", "Berg", "Volkov", "Haddad", "Moreau", "Demir", "Kowalski", "Brandt", "Costa"};
    private static final String[] EVENTS = {"dentist appointment", "job interview", "flight to Lisbon",
            "visa renewal", "piano recital", "car inspection", "tax deadline", "wedding anniversary", "eye test",
            "court hearing", "marathon", "thesis defence", "lease renewal", "vaccination", "parents evening",
            "boiler service"};
    private static final String[] COLOURS = {"blue", "red", "green", "yellow", "grey", "orange", "white", "black"};
    private static final String[] CITIES = {"Bergen", "Porto", "Krakow", "Osaka", "Lyon", "Tartu", "Cork", "Graz",
            "Malmo", "Split"};
    private static final String[] MONTHS = {"January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December"};
    private static final String[] TOPICS = {"the weather", "a new recipe", "the football match", "my commute",
            "a podcast", "the garden", "a film", "the news", "a book club", "the budget", "a holiday plan", "the neighbours",
            "a code review", "the locker rooms", "an appointment system", "a name for the cat", "the office move",
            "the school run", "the gym schedule", "a birthday present"};
    private static final String[] REMARKS = {"it went better than expected", "nothing much happened",
            "I could not decide what to do", "it took most of the afternoon", "we should talk about it again",
            "it reminded me of last year", "everyone had an opinion", "I am still thinking about it",
            "the details were confusing", "it was quieter than usual"};

    private LongConversation() {
    }

    /**
     * {@code perDistance} facts for each distance, each asked about that many turns after it was stated, among
     * filler: {@code turns} user messages in all.
     */
    static List<Line> generate(long seed, int turns, int[] distances, int perDistance) {
        Random rnd = new Random(seed);
        Line[] lines = new Line[turns];
        Set<String> values = new HashSet<>();
        for (int d : distances) {
            for (int k = 0; k < perDistance; k++) {
                Fact f = fact(rnd, values, d);
                for (int attempt = 0; ; attempt++) {
                    if (attempt > 10_000) {
                        throw new IllegalArgumentException(turns + " turns cannot hold " + perDistance
                                + " facts for each of the distances");
                    }
                    int at = rnd.nextInt(turns - d);
                    if (lines[at] == null && lines[at + d] == null) {
                        lines[at] = new Line(f.statement(), f, false);
                        lines[at + d] = new Line(f.question(), f, true);
                        break;
                    }
                }
            }
        }
        List<Line> out = new ArrayList<>(turns);
        for (int i = 0; i < turns; i++) {
            out.add(lines[i] != null ? lines[i] : new Line(filler(rnd), null, false));
        }
        return out;
    }

    private static Fact fact(Random rnd, Set<String> values, int distance) {
        while (true) {
            Fact f = switch (rnd.nextInt(3)) {
                case 0 -> {
                    String locker = "the " + pick(rnd, COLOURS) + " locker at the " + pick(rnd, PLACES);
                    String code = String.valueOf(1000 + rnd.nextInt(9000));
                    yield new Fact("Please remember this: the code of " + locker + " is " + code + ".",
                            "What is the code of " + locker + "?", code, distance);
                }
                case 1 -> {
                    String relation = pick(rnd, RELATIONS) + " in " + pick(rnd, CITIES);
                    String name = pick(rnd, FIRST) + " " + pick(rnd, LAST);
                    yield new Fact("By the way, my " + relation + " is called " + name + ".",
                            "What is my " + relation + " called?", name, distance);
                }
                default -> {
                    String event = pick(rnd, EVENTS) + " in " + pick(rnd, CITIES);
                    String date = (1 + rnd.nextInt(28)) + " " + pick(rnd, MONTHS);
                    yield new Fact("Note that my " + event + " is on " + date + ".", "When is my " + event + "?", date,
                            distance);
                }
            };
            // unique values, and one fact per subject (a second gym locker code would make the question ambiguous)
            String subject = f.question();
            if (values.add(f.value()) && values.add(subject)) {
                return f;
            }
        }
    }

    private static String filler(Random rnd) {
        return "Today I was thinking about " + pick(rnd, TOPICS) + " and " + pick(rnd, TOPICS) + "; "
                + pick(rnd, REMARKS) + ", and " + pick(rnd, REMARKS) + ".";
    }

    private static String pick(Random rnd, String[] from) {
        return from[rnd.nextInt(from.length)];
    }
}
