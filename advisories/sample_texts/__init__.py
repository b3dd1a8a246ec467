"""Realistic advisory descriptions (Markdown) for the demo data and bench/leak_trace.py: written the way partner
advisories are written, with code blocks, commands, identifiers, CVE ids, numbers and URLs that must stay exact.

The texts are the files next to this module, read once at import."""

import re
from pathlib import Path

_TEXTS = Path(__file__).resolve().parent


def _text(name: str) -> str:
    return (_TEXTS / name).read_text(encoding="utf-8")


MAIL_SERVER = _text("mail_server.md")
HYPERVISOR = _text("hypervisor.md")
VPN_GATEWAY = _text("vpn_gateway.md")
DOCUMENT_VIEWER = _text("document_viewer.md")

SAMPLE_DOCUMENTS = [MAIL_SERVER, HYPERVISOR, VPN_GATEWAY, DOCUMENT_VIEWER]

# The same descriptions as an author who expects leaks writes them: variant points (docs/fingerprinting.md) at places
# where every alternative says the same thing. Used by the demo data and bench/leak_trace.py.
_AUTHOR_VARIANTS = {
    "MAIL_SERVER": [
        ("The flaw lies in", "The flaw {{= lies | resides | is located =}} in"),
        ("When a client announces a chunk", "When a client {{= announces | declares | advertises =}} a chunk"),
        ("and allocates a buffer for it", "and {{= allocates | reserves =}} a buffer for it"),
        ("stays below the message size limit", "stays {{= below | under | within =}} the message size limit"),
        ("A second code path, used when", "A {{= second | different | separate =}} code path, used when"),
        ("copies the remaining bytes into", "copies the {{= remaining | rest of the | outstanding =}} bytes into"),
        ("without checking the bounds again", "without {{= checking | validating | verifying =}} the bounds again"),
        (
            "a chunk whose declared size wraps around",
            "a chunk whose {{= declared | announced | stated =}} size wraps around",
        ),
        ("in the context of the transport service", "in the context of the transport {{= service | process =}}"),
        (
            "The overflow is reachable on every",
            "The overflow is {{= reachable | exposed =}} on {{= every | each | any =}}",
        ),
        (
            "which is the default configuration of an edge server",
            "which is the {{= default | standard | out-of-the-box =}} configuration of an edge server",
        ),
        (
            "the heap layout is deterministic enough",
            "the heap layout is {{= deterministic | predictable | stable =}} enough",
        ),
        (
            "a failed attempt only crashes the worker process",
            "a {{= failed | unsuccessful =}} attempt only crashes the worker process",
        ),
        (
            "which the service restarts within seconds",
            "which the service restarts within {{= seconds | a few seconds | moments =}}",
        ),
        ("an attacker can simply try again until", "an attacker can {{= simply | just =}} try again until"),
        ("Servers that only accept authenticated", "Servers that {{= only | exclusively =}} accept authenticated"),
        (
            "although an authenticated user can still reach",
            "although an authenticated user can still {{= reach | trigger | hit =}}",
        ),
        (
            "the fix ships with the cumulative update planned",
            "the fix ships with the cumulative update {{= planned | scheduled =}}",
        ),
        (
            "a burst of these events from the same worker",
            "a {{= burst | rapid series | cluster =}} of these events from the same worker",
        ),
        (
            "is a strong indicator of exploitation attempts",
            "is a {{= strong | clear | reliable =}} indicator of exploitation attempts",
        ),
        ("to evade a naive signature", "to evade a {{= naive | simple | basic =}} signature"),
        (
            "which does not affect mail flow between servers",
            "which does not {{= affect | disrupt | change =}} mail flow between servers",
        ),
        ("the vulnerable parser is still present", "the vulnerable parser is still {{= present | in place | there =}}"),
        (
            "since doing so would reveal the root cause",
            "since doing so would {{= reveal | disclose | expose | give away =}} the root cause",
        ),
    ],
    "HYPERVISOR": [
        ("implements its virtual switch in", "{{= implements | provides =}} its virtual switch in"),
        ("Guests communicate with\nit through", "Guests {{= communicate | interact =}} with\nit through"),
        ("each descriptor carries an offset", "each descriptor {{= carries | holds | contains =}} an offset"),
        ("when it first reads a descriptor", "when it {{= first | initially =}} reads a descriptor"),
        ("when it later copies the packet", "when it {{= later | subsequently | afterwards =}} copies the packet"),
        (
            "A malicious guest can change the\nlength",
            "A {{= malicious | hostile | rogue =}} guest can change the\nlength",
        ),
        ("a classic time-of-check", "a {{= classic | textbook | typical =}} time-of-check"),
        ("the guest controls both the size", "the guest {{= controls | decides | chooses =}} both the size"),
        ("the bytes written past the end", "the bytes written {{= past | beyond =}} the end"),
        (
            "can use this flaw to escape the guest",
            "can use this flaw to {{= escape | break out of | leave =}} the guest",
        ),
        (
            "The exploit does not require any special configuration",
            "The exploit does not require any {{= special | particular | specific =}} configuration",
        ),
        (
            "which is the case in almost all deployments",
            "which is the case in almost all {{= deployments | installations | environments =}}",
        ),
        (
            "win the\nrace reliably within a few thousand",
            "win the\nrace {{= reliably | consistently =}} within a few thousand",
        ),
        ("which makes the attack hard to notice", "which makes the attack {{= hard | difficult | tricky =}} to notice"),
        ("The vendor has prepared a fix", "The vendor has {{= prepared | developed | produced =}} a fix"),
        ("into a local structure", "into a local {{= structure | copy | buffer =}}"),
        (
            "but the race leaves a characteristic pattern",
            "but the race leaves a {{= characteristic | distinctive | recognisable =}} pattern",
        ),
        ("within a short time", "within a short {{= time | period | interval =}}"),
        ("although this check runs too late", "although this check {{= runs | happens | occurs =}} too late"),
        ("should isolate untrusted guests", "should {{= isolate | separate | segregate =}} untrusted guests"),
        ("that do not run sensitive workloads", "that do not run {{= sensitive | critical | important =}} workloads"),
        (
            "There is no configuration option",
            "There is no {{= configuration option | setting | configuration setting =}}",
        ),
        ("cannot be\ntrusted again until", "cannot be\ntrusted {{= again | any longer =}} until"),
    ],
    "VPN_GATEWAY": [
        ("handles the single sign-on callback", "{{= handles | processes | serves =}} the single sign-on callback"),
        ("the broker verifies the signature", "the broker {{= verifies | checks | validates =}} the signature"),
        ("and then looks up the user", "and then {{= looks up | retrieves | fetches =}} the user"),
        (
            "only checks the signature of\nthe first",
            "only {{= checks | verifies | validates =}} the signature of\nthe first",
        ),
        ("while the lookup uses the last one", "{{= while | whereas =}} the lookup uses the last one"),
        ("take any\nvalidly signed assertion", "take any\n{{= validly | correctly | properly =}} signed assertion"),
        ("one obtained from a free trial account", "one obtained from a {{= free trial | trial | free =}} account"),
        ("The broker accepts the response", "The broker {{= accepts | takes =}} the response"),
        ("without knowing any password", "without {{= knowing | needing | having =}} any password"),
        ("change the gateway's configuration", "{{= change | alter | modify =}} the gateway's configuration"),
        (
            "The management interface is often reachable",
            "The management interface is {{= often | frequently | commonly =}} reachable",
        ),
        ("since many organisations\nexpose it", "since many {{= organisations | customers | operators =}}\nexpose it"),
        ("Our scans of a sample of gateways", "Our scans of a {{= sample | subset | selection =}} of gateways"),
        ("which is enabled as soon as", "which is {{= enabled | switched on | active =}} as soon as"),
        (
            "the callback handler is not registered",
            "the callback handler is not {{= registered | installed | loaded =}}",
        ),
        ("the fixed broker rejects any response", "the fixed broker {{= rejects | refuses | discards =}} any response"),
        (
            "is never produced by a legitimate identity provider",
            "is never {{= produced | generated | issued =}} by a legitimate identity provider",
        ),
        ("from an\nunusual source address", "from an\n{{= unusual | unexpected | unfamiliar =}} source address"),
        ("created shortly afterwards", "created {{= shortly | soon | not long =}} afterwards"),
        ("to a dedicated network", "to a {{= dedicated | separate | isolated =}} network"),
        (
            "where single sign-on is not essential",
            "where single sign-on is not {{= essential | required | critical =}}",
        ),
        (
            "for anything other than a normal VPN connection",
            "for anything other than a {{= normal | regular | ordinary =}} VPN connection",
        ),
    ],
    "DOCUMENT_VIEWER": [
        ("uses its own parser for embedded", "uses its own {{= parser | parsing code =}} for embedded"),
        ("When it processes the `glyf` table", "When it {{= processes | parses | reads =}} the `glyf` table"),
        (
            "which wraps around when a document embeds",
            "which wraps around when a document {{= embeds | contains | includes =}}",
        ),
        (
            "reference components with many points",
            "reference components with {{= many | a large number of | numerous =}} points",
        ),
        ("fills it with the real number of points", "fills it with the {{= real | actual | true =}} number of points"),
        (
            "are controlled by the author of the document",
            "are controlled by the {{= author | creator =}} of the document",
        ),
        (
            "who convinces a user to open",
            "who {{= convinces a user to open | persuades a user to open | tricks a user into opening =}}",
        ),
        ("by sending it as an attachment", "by {{= sending | mailing | delivering =}} it as an attachment"),
        ("it is enough in some configurations", "it is {{= enough | sufficient =}} in some configurations"),
        ("for the user to select the message", "for the user to {{= select | click on | highlight =}} the message"),
        ("The exploit we developed works reliably", "The exploit we {{= developed | wrote | built =}} works reliably"),
        ("We have not found any evidence", "We have not {{= found | seen | observed =}} any evidence"),
        (
            "Earlier versions use a\ndifferent font engine",
            "{{= Earlier | Older | Previous =}} versions use a\ndifferent font engine",
        ),
        ("The vendor's fix checks the sum", "The vendor's fix {{= checks | compares | tests =}} the sum"),
        ("and rejects fonts whose composite glyphs", "and {{= rejects | refuses =}} fonts whose composite glyphs"),
        (
            "The\nattached rule looks for embedded",
            "The\nattached rule {{= looks for | searches for | matches =}} embedded",
        ),
        ("Security products that unpack documents", "Security products that {{= unpack | extract | open =}} documents"),
        ("since the font\ncan be compressed", "since the font\ncan be {{= compressed | packed | encoded =}}"),
        ("to hide it from a naive signature", "to hide it from a {{= naive | simple | basic =}} signature"),
        (
            "administrators can turn off the preview pane",
            "administrators can {{= turn off | switch off | hide =}} the preview pane",
        ),
        ("Neither measure removes the flaw", "Neither measure {{= removes | eliminates | fixes =}} the flaw"),
        (
            "from an untrusted source deliberately",
            "from an untrusted source {{= deliberately | on purpose | intentionally =}}",
        ),
    ],
}


def _authored(text: str, variants: list[tuple[str, str]]) -> str:
    for plain, authored in variants:
        pattern = re.compile(r"\s+".join(re.escape(word) for word in plain.split()))
        if len(pattern.findall(text)) != 1:
            raise ValueError(f"author variant anchor must occur exactly once: {plain!r}")
        text = pattern.sub(authored.replace("\\", "\\\\"), text)
    return text


AUTHORED_DOCUMENTS = [
    _authored(text, _AUTHOR_VARIANTS[name])
    for name, text in (
        ("MAIL_SERVER", MAIL_SERVER),
        ("HYPERVISOR", HYPERVISOR),
        ("VPN_GATEWAY", VPN_GATEWAY),
        ("DOCUMENT_VIEWER", DOCUMENT_VIEWER),
    )
]

# A proof of concept as an author who expects leaks writes it: variant points in the code itself (variable names,
# constants with several valid values, filler bytes), so that a copy with its comments stripped and reformatted, or
# the bytes it sends, name the copy it came from. Used by the demo data and bench/leak_trace.py.
PROOF_OF_CONCEPT = _text("proof_of_concept.py.tmpl")
