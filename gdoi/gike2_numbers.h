/*
 * gike2_numbers.h - the protocol numbers of G-IKEv2 (RFC 9838, November 2025)
 * that this project uses, each with the section that defines it.
 *
 * Where each number was checked (no number here comes from memory alone):
 *  [IANA]  the IANA "Internet Key Exchange Version 2 (IKEv2) Parameters"
 *          registries (exchange types, payload types, transform types 13 and
 *          14 and their IDs, security protocol 6, notify types, the four
 *          registries RFC 9838 creates), read from a snapshot table of them;
 *  [D05]   draft-ietf-ipsecme-g-ikev2-05 (the smyslov/G-IKEv2 repository),
 *          for the payload formats, the attribute types and values, the
 *          TV/TLV form of each attribute and GSK_w's label;
 *  [RFC]   the section number of RFC 9838 as a document citing RFC 9838
 *          gives it (2.5, 2.7, 3.4, 4.4.3.1.2, 4.5, 4.5.3.3); the other
 *          section numbers follow the draft's structure and are marked (~).
 * The RFC's own text was not readable here (only page openings are stored);
 * docs/srtp-gikev2.md lists what that leaves open.
 */
#ifndef GDOI_GIKE2_NUMBERS_H
#define GDOI_GIKE2_NUMBERS_H

/* UDP port, shared with GDOI: the IKE header's version tells them apart
 * (§2.1.1~). */
#define GIKE2_PORT 848
#define GIKE2_VERSION 0x20	/* Major 2, Minor 0 (§4.1~, RFC 7296 §3.1) */

/* IKEv2 Exchange Types [IANA], §2.3.1~, §2.3.2~, §2.4.1~, §2.4.2~. */
#define GIKE2_EXCH_GSA_AUTH 39
#define GIKE2_EXCH_GSA_REGISTRATION 40
#define GIKE2_EXCH_GSA_REKEY 41
#define GIKE2_EXCH_GSA_INBAND_REKEY 42

/* IKEv2 Payload Types [IANA]. SAg reuses the SA payload type (§4.3~ [D05]). */
#define GIKE2_PL_NONE 0
#define GIKE2_PL_SA 33		/* also SAg */
#define GIKE2_PL_AUTH 39
#define GIKE2_PL_NOTIFY 41
#define GIKE2_PL_DELETE 42
#define GIKE2_PL_SK 46
#define GIKE2_PL_IDG 50		/* Group Identification, §4.2~ */
#define GIKE2_PL_GSA 51		/* Group Security Association, §4.4 */
#define GIKE2_PL_KD 52		/* Key Download, §4.5 [RFC] */

/* IKEv2 Security Protocol Identifiers [IANA]: GIKE_UPDATE is the Rekey SA's
 * protocol (§4.4.2~; the draft called it GIKE_REKEY, <TBA>). 0 in a policy
 * or key bag substructure means "not an SA": the GWP substructure and the
 * Member Key Bag ([D05] §4.4.3~, §4.5.3~). */
#define GIKE2_PROTO_NONE 0
#define GIKE2_PROTO_IKE 1
#define GIKE2_PROTO_AH 2
#define GIKE2_PROTO_ESP 3
#define GIKE2_PROTO_GIKE_UPDATE 6
/* The project's SRTP Data-Security SA (docs/srtp-gikev2.md): the registry's
 * Private Use range is 201-255; 0xF5 is the value the GDOI mapping uses
 * for its SRTP TEK (docs/srtp-tek.md), so one number means SRTP in both. */
#define GIKE2_PROTO_SRTP 0xF5
#define GIKE2_SPI_SIZE_REKEY 16	/* SPIi | SPIr of the GSA_REKEY header */
#define GIKE2_SPI_SIZE_IPSEC 4
#define GIKE2_SPI_SIZE_SRTP 4	/* docs/srtp-gikev2.md */

/* Transform Types [IANA] (RFC 7296 §3.3.2 plus RFC 9838 §4.4.2.1~). */
#define GIKE2_XF_ENCR 1
#define GIKE2_XF_PRF 2
#define GIKE2_XF_INTEG 3
#define GIKE2_XF_KE 4
#define GIKE2_XF_SN 5		/* "Sequence Numbers", formerly ESN */
#define GIKE2_XF_KWA 13		/* Key Wrap Algorithm */
#define GIKE2_XF_GCAUTH 14	/* Group Controller Authentication Method */

/* Transform Type 13 - Key Wrap Algorithm IDs [IANA]: AES key wrap with
 * padding (RFC 5649) with a 128-, 192- or 256-bit KWK; KW_ARX is not
 * implemented. */
#define GIKE2_KWA_5649_128 1
#define GIKE2_KWA_5649_192 2
#define GIKE2_KWA_5649_256 3
#define GIKE2_KWA_ARX 4

/* Transform Type 14 - Group Controller Authentication Method IDs [IANA]. */
#define GIKE2_GCAUTH_IMPLICIT 1
#define GIKE2_GCAUTH_DIGITAL_SIGNATURE 2

/* IKEv2 Transform Attribute Types [IANA]: Key Length (RFC 7296 §3.3.5) and
 * the Signature Algorithm Identifier of the GCAUTH transform (DER
 * AlgorithmIdentifier, §4.4.2.1.2~). */
#define GIKE2_XATTR_KEY_LENGTH 14
#define GIKE2_XATTR_SIG_ALG_ID 18

/* Transform IDs this project uses for SK and the Rekey SA (RFC 7296, RFC 5282). */
#define GIKE2_ENCR_AES_CBC 12
#define GIKE2_ENCR_AES_GCM_16 20
#define GIKE2_PRF_HMAC_SHA2_256 5
#define GIKE2_INTEG_HMAC_SHA2_256_128 12

/* IKEv2 Authentication Method: Digital Signature (RFC 7427), the AUTH
 * payload method of a signed GSA_REKEY (§2.4.1.1~). */
#define GIKE2_AUTH_DIGITAL_SIGNATURE 14

/* GSA Attributes registry [IANA], all TLV (V) [D05], §4.4.2.2~. */
#define GIKE2_GSA_KEY_LIFETIME 1	/* 4 octets, seconds */
#define GIKE2_GSA_INITIAL_MESSAGE_ID 2	/* 4 octets, Rekey SA only */
#define GIKE2_GSA_NEXT_SPI 3		/* SPI Size octets, may repeat */

/* Group-Wide Policy Attributes registry [IANA], all TV (B) 16 bits [D05],
 * §4.4.3.1~ (GWP_SENDER_ID_BITS: §4.4.3.1.2 [RFC]). */
#define GIKE2_GWP_ATD 1
#define GIKE2_GWP_DTD 2
#define GIKE2_GWP_SENDER_ID_BITS 3

/* Group Key Bag Attributes registry [IANA], TLV, §4.5.2~. */
#define GIKE2_GKB_SA_KEY 1

/* Member Key Bag Attributes registry [IANA], TLV, §4.5.3~
 * (GM_SENDER_ID: §4.5.3.3 [RFC]). */
#define GIKE2_MKB_WRAP_KEY 1
#define GIKE2_MKB_AUTH_KEY 2
#define GIKE2_MKB_GM_SENDER_ID 3

/* Notify Message Types [IANA], §4.7~. Errors: */
#define GIKE2_N_INVALID_SYNTAX 7
#define GIKE2_N_NO_PROPOSAL_CHOSEN 14
#define GIKE2_N_AUTHENTICATION_FAILED 24
#define GIKE2_N_INVALID_GROUP_ID 45
#define GIKE2_N_AUTHORIZATION_FAILED 46
#define GIKE2_N_REGISTRATION_FAILED 49
/* Status: the GM will send; data = count of Sender-IDs wanted (4 octets,
 * [D05]). IANA's row 16429 (first "GROUP_SENDER") is the one RFC 9838 uses. */
#define GIKE2_N_SENDER 16429
#define GIKE2_N_USE_TRANSPORT_MODE 16391

/* Default Key Wrap Key of an IKE SA (§3.1.1~ [D05]):
 * GSK_w = prf+(SK_d, "Key Wrap for G-IKEv2"), 20 ASCII octets, no NUL. */
#define GIKE2_GSK_W_LABEL "Key Wrap for G-IKEv2"

/* KWK ID 0 = the default KWK (GSK_w); Key ID 0 = SA keying material (§4.5.1~). */
#define GIKE2_KWK_ID_DEFAULT 0
#define GIKE2_KEY_ID_SA 0

#endif
