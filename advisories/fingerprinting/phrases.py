"""The reviewed choices the fingerprint may make in prose, and the vocabulary it never touches
(see docs/fingerprinting.md, "What may change").

A phrase class lists forms that mean the same thing wherever the *source* text uses one of them, under the class's
guard. The fingerprint only ever varies a place where the source has one of the forms, so a class only has to be
safe in the source's own sentences, and each copy reads as the author wrote it but for these choices. Rules for a
class, checked by tests/advisories/test_fingerprint_safety.py:

- no form changes an instruction, a product name, a number, a quoted string or a technical term (every form of
  every class is checked against PROTECTED_TERMS, and protected places are never varied);
- no form is a word that also has another meaning where a guard does not exclude it (so "which"/"that",
  "since"/"because", "like"/"such as", "issue"/"problem" are not here);
- forms keep the grammar: same part of speech, same number, same tense.

Forms are lower case; the case of the source's first letter is kept.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PhraseClass:
    forms: tuple[str, ...]
    # None, or a condition on the neighbours in the source: "number_after" (the next word is a number),
    # "number_before" (the previous word is a number), "word_after" (a word follows in the same clause),
    # "noun_after" (a word follows that is not "of", "other" or "one": "each descriptor", not "each of them").
    guard: str | None = None
    # The forms that make a place in the source a slot (default: all). A form that has another meaning somewhere
    # ("about", "over", "permits" as a noun) may be chosen for a copy but never starts a slot.
    triggers: tuple[int, ...] | None = None

    def triggered_by(self, index: int) -> bool:
        return self.triggers is None or index in self.triggers


def _classes(*forms_lists, guard=None):
    return [PhraseClass(tuple(forms), guard) for forms in forms_lists]


# Contractions and their full forms: the same words, register only.
CONTRACTIONS = _classes(
    ("does not", "doesn't"),
    ("do not", "don't"),
    ("did not", "didn't"),
    ("is not", "isn't"),
    ("are not", "aren't"),
    ("was not", "wasn't"),
    ("were not", "weren't"),
    ("has not", "hasn't"),
    ("have not", "haven't"),
    ("had not", "hadn't"),
    ("will not", "won't"),
    ("would not", "wouldn't"),
    ("should not", "shouldn't"),
    ("could not", "couldn't"),
    ("cannot", "can't"),
)

# Discourse markers and fixed phrases: exact synonyms in technical prose.
DISCOURSE = _classes(
    ("for example", "for example,", "for instance", "for instance,", "e.g.", "e.g.,"),
    ("that is,", "i.e.,", "i.e."),
    ("consequently", "as a result"),
    ("although", "even though"),
    ("however,", "nevertheless,"),
    ("among", "amongst"),
    ("toward", "towards"),
    ("afterwards", "afterward"),
    ("in order to", "so as to"),
    ("all of the", "all the"),
    ("both of the", "both the"),
    ("etc.", "and so on"),
    ("in case of", "in the event of"),
    ("almost", "nearly"),
    ("often", "frequently"),
    ("usually", "typically"),
    ("quickly", "rapidly"),
    ("entirely", "completely"),
    ("several", "multiple"),
    ("large", "big"),
    ("in most cases", "in most instances"),
) + [
    PhraseClass(("furthermore", "moreover", "in addition"), triggers=(0, 1)),
    PhraseClass(("therefore", "thus"), triggers=(0,)),
    PhraseClass(("as soon as", "once"), triggers=(0,)),
    PhraseClass(("prior to", "before"), triggers=(0,)),
    PhraseClass(("instead of", "rather than"), triggers=(0,)),
    PhraseClass(("a number of", "several"), triggers=(0,)),
    PhraseClass(("each", "every"), guard="noun_after"),
    PhraseClass(("it is", "it's"), guard="word_after", triggers=(0,)),
    PhraseClass(("there is", "there's"), guard="word_after", triggers=(0,)),
    PhraseClass(("is able to", "can"), triggers=(0,)),
    PhraseClass(("are able to", "can"), triggers=(0,)),
    PhraseClass(("specially crafted", "specifically crafted", "carefully crafted")),
]

# Verbs with an exact synonym (all forms listed, so that tense and number never change).
VERBS = _classes(
    ("ensure", "make sure"),
    ("ensures", "makes sure"),
    ("ensured", "made sure"),
    ("ensuring", "making sure"),
    ("attempted to", "tried to"),
    ("attempting to", "trying to"),
    ("gain access", "obtain access", "get access"),
    ("gains access", "obtains access", "gets access"),
    ("gained access", "obtained access"),
    ("verify that", "check that"),
    ("verifies that", "checks that"),
    ("verified that", "checked that"),
    ("showed that", "demonstrated that"),
    ("shows that", "demonstrates that"),
    ("removes", "eliminates"),
    ("obtained", "acquired"),
    ("contacted", "reached out to"),
    ("we recommend", "we advise"),
) + [
    PhraseClass(("allows", "permits", "enables"), triggers=(0,)),
    PhraseClass(("allowing", "permitting", "enabling"), triggers=(0,)),
    PhraseClass(("requires", "needs"), triggers=(0,)),
    PhraseClass(("prevents", "stops"), triggers=(0,)),
]

# Quantities written next to a number: the number itself never changes.
NUMBERS = [
    PhraseClass(("approximately", "roughly", "around", "about"), guard="number_after", triggers=(0, 1)),
    PhraseClass(("more than", "over"), guard="number_after", triggers=(0,)),
    PhraseClass(("fewer than", "less than"), guard="number_after"),
    PhraseClass(("at least", "no fewer than"), guard="number_after", triggers=(0,)),
    PhraseClass(("percent", "per cent", "%"), guard="number_before"),
]

# Compounds written closed, hyphenated or open; none of them is a protected term.
COMPOUNDS = _classes(
    ("e-mail", "email"),
    ("e-mails", "emails"),
    ("log file", "logfile"),
    ("log files", "logfiles"),
    ("file name", "filename"),
    ("file names", "filenames"),
    ("web server", "webserver"),
    ("web servers", "webservers"),
    ("web site", "website"),
    ("web sites", "websites"),
    ("web page", "webpage"),
    ("web pages", "webpages"),
    ("time stamp", "timestamp"),
    ("time stamps", "timestamps"),
    ("plug-in", "plugin"),
    ("plug-ins", "plugins"),
    ("sub-domain", "subdomain"),
    ("sub-domains", "subdomains"),
    ("sub-directory", "subdirectory"),
    ("code base", "codebase"),
    ("back end", "backend", "back-end"),
    ("front end", "frontend", "front-end"),
    ("set-up", "setup"),
    ("on-premises", "on-premise", "on premises"),
    ("open-source", "open source"),
    ("third-party", "third party"),
    ("real-time", "real time"),
    ("up-to-date", "up to date"),
    ("well-known", "well known"),
    ("known-good", "known good"),
    ("low-privileged", "low privileged"),
    ("high-privileged", "high privileged"),
    ("internet-facing", "internet facing"),
    ("attacker-controlled", "attacker controlled"),
    ("user-supplied", "user supplied"),
    ("guest-owned", "guest owned"),
    ("host-based", "host based"),
    ("network-based", "network based"),
    ("out-of-band", "out of band"),
    ("judgment", "judgement"),
    ("acknowledgment", "acknowledgement"),
    ("gray", "grey"),
    ("artifact", "artefact"),
    ("artifacts", "artefacts"),
)

# British and American spellings of words common in security prose, generated with their inflections.
_IZE_STEMS = [
    "sanit", "serial", "deserial", "initial", "author", "unauthor", "organ", "priorit", "recogn", "minim", "maxim",
    "util", "custom", "normal", "optim", "random", "synchron", "final", "summar", "categor", "character",
    "standard", "visual", "virtual", "container", "token", "real", "emphas", "special", "general", "local",
    "central", "neutral", "stabil", "parameter", "capital", "weapon", "memor", "canonical", "legitim", "apolog",
    "critic", "modern", "monet", "penal", "scrutin", "harmon", "material", "revolution", "decentral", "reinitial",
    "reorgan", "desynchron", "incentiv", "jeopard", "mobil", "item", "symbol", "fertil", "privat",
]  # fmt: skip
_IZE_SUFFIXES = ["e", "es", "ed", "ing", "ation", "ations", "er", "ers"]
_YSE_STEMS = ["analy", "paraly", "cataly"]
_YSE_SUFFIXES = ["e", "ed", "ing", "er", "ers"]  # not "es": "analyses" is also the plural of "analysis"
_PAIRS = [
    ("behavior", "behaviour"), ("behaviors", "behaviours"), ("behavioral", "behavioural"),
    ("favor", "favour"), ("favorable", "favourable"), ("honor", "honour"), ("neighbor", "neighbour"),
    ("neighboring", "neighbouring"), ("color", "colour"), ("colors", "colours"),
    ("center", "centre"), ("centers", "centres"), ("defense", "defence"), ("defenses", "defences"),
    ("offense", "offence"), ("labeled", "labelled"), ("labeling", "labelling"), ("canceled", "cancelled"),
    ("canceling", "cancelling"), ("modeling", "modelling"), ("modeled", "modelled"), ("signaling", "signalling"),
    ("signaled", "signalled"), ("tunneling", "tunnelling"), ("tunneled", "tunnelled"),
    ("marshaling", "marshalling"), ("marshaled", "marshalled"), ("traveled", "travelled"),
    ("enrollment", "enrolment"), ("fulfill", "fulfil"), ("fulfills", "fulfils"), ("catalog", "catalogue"),
    ("catalogs", "catalogues"), ("dialog", "dialogue"), ("dialogs", "dialogues"), ("analog", "analogue"),
    ("learned", "learnt"), ("spelled", "spelt"), ("focused", "focussed"), ("benefited", "benefitted"),
    ("fueled", "fuelled"), ("totaled", "totalled"), ("channeled", "channelled"), ("leveled", "levelled"),
    ("traveling", "travelling"), ("licensed", "licenced"),
]  # fmt: skip


def _spelling_classes():
    for stem in _IZE_STEMS:
        for suffix in _IZE_SUFFIXES:
            yield PhraseClass((f"{stem}iz{suffix}", f"{stem}is{suffix}"))
    for stem in _YSE_STEMS:
        for suffix in _YSE_SUFFIXES:
            yield PhraseClass((f"{stem}z{suffix}", f"{stem}s{suffix}"))
    for pair in _PAIRS:
        yield PhraseClass(pair)


PHRASE_CLASSES: list[PhraseClass] = [
    *CONTRACTIONS,
    *DISCOURSE,
    *VERBS,
    *NUMBERS,
    *COMPOUNDS,
    *_spelling_classes(),
]

# Never varied, wherever they occur (compared case-insensitively, ignoring hyphens and spacing): vulnerability
# classes (the CWE names most used in advisories and their usual short forms), attack terms partners search for,
# and the words of instructions. A search for any of them finds it in every copy.
PROTECTED_TERMS = [
    # CWE names and common short forms
    "buffer overflow", "buffer overflows", "buffer overrun", "heap-based buffer overflow",
    "stack-based buffer overflow", "heap overflow", "stack overflow", "integer overflow", "integer underflow",
    "integer wraparound", "wrap-around", "out-of-bounds write", "out-of-bounds read", "out-of-bounds",
    "use after free", "use-after-free", "double free", "null pointer dereference", "type confusion",
    "race condition", "time-of-check time-of-use", "time-of-check to time-of-use", "toctou",
    "uncontrolled resource consumption", "memory leak", "memory corruption", "format string",
    "improper input validation", "improper authentication", "missing authentication for critical function",
    "missing authorization", "incorrect authorization", "improper access control", "authentication bypass",
    "authorization bypass", "privilege escalation", "elevation of privilege", "improper privilege management",
    "cross-site scripting", "cross-site request forgery", "server-side request forgery", "sql injection",
    "command injection", "os command injection", "code injection", "ldap injection", "xml external entity",
    "path traversal", "directory traversal", "deserialization of untrusted data", "insecure deserialization",
    "unrestricted upload of file with dangerous type", "open redirect", "hard-coded credentials",
    "use of hard-coded credentials", "cleartext transmission of sensitive information",
    "exposure of sensitive information", "information disclosure", "information exposure",
    "improper certificate validation", "signature verification", "improper verification of cryptographic signature",
    "weak password requirements", "session fixation", "denial of service", "denial-of-service",
    "resource exhaustion", "infinite loop", "uncontrolled search path element", "dll hijacking",
    "prototype pollution", "request smuggling", "http request smuggling", "clickjacking",
    # Attack and impact terms
    "remote code execution", "arbitrary code execution", "code execution", "execute arbitrary code",
    "executes arbitrary code", "execute arbitrary commands", "execute commands", "execute code", "run code",
    "run arbitrary code", "arbitrary code", "proof of concept", "proof-of-concept", "zero-day", "zero day",
    "exploit", "exploits", "exploited", "exploiting", "exploitation", "exploitable", "vulnerability",
    "vulnerabilities", "vulnerable", "unauthenticated", "authenticated", "pre-authentication", "pre-auth",
    "multi-factor authentication", "single sign-on", "man-in-the-middle", "sandbox escape", "guest escape",
    "container escape", "kernel privileges", "root", "system", "administrator", "indicator of compromise",
    "indicators of compromise", "command and control", "lateral movement", "persistence", "backdoor",
    "malware", "ransomware", "phishing", "credential", "credentials", "password", "passwords",
    # Instructions
    "install", "installed", "apply", "update", "updates", "upgrade", "patch", "patches", "disable", "enable",
    "restrict", "block", "rotate", "remove", "uninstall", "restart", "reboot", "mitigation", "workaround",
    "fix", "fixed", "affected", "not affected", "affects", "impacted",
]  # fmt: skip
