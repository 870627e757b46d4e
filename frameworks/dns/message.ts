// One query packet in, one response packet out (or none): the wire rules around answers.ts.
//
// - Undecodable: FORMERR when a query header can be read (id kept, no question), else dropped.
// - A response (QR set) is dropped, so two servers can never bounce packets off each other.
// - Not QUERY: NOTIMP. Not exactly one question, or a class other than IN: FORMERR / REFUSED.
// - Not serving (this host does not lead): REFUSED, so a stub resolver tries its next server.
// - Authoritative (AA set), no recursion (RA clear), RD echoed.
// - Over UDP the answer must fit 512 bytes, or the EDNS size the client offers (at most 1232, the
//   DNS flag day's safe size); a larger one goes out as the header and question with TC set, and
//   the client asks again over TCP, where up to 65535 bytes fit.
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';
import { answer, RCODE, type AnswerOptions, type Rcode, type ServiceEndpoints } from './answers.js';

export const UDP_PLAIN_MAX = 512;
export const UDP_EDNS_MAX = 1232;
const TCP_MAX = 65_535;
const HEADER_BYTES = 12;
const QR = 0x8000;
const OPCODE_QUERY = 0;

export interface Responder {
  /** The services' endpoints now; undefined while this instance does not serve. */
  readonly services: () => ServiceEndpoints | undefined;
  readonly options: AnswerOptions;
}

export function respond(query: Buffer, transport: 'udp' | 'tcp', responder: Responder): Buffer | undefined {
  if (query.length < HEADER_BYTES || (query.readUInt16BE(2) & QR) !== 0) return undefined;
  let packet: Packet;
  try {
    packet = dnsPacket.decode(query);
  } catch {
    return bare(query.readUInt16BE(0), RCODE.FORMERR);
  }
  const id = packet.id ?? 0;
  if (((query.readUInt16BE(2) >> 11) & 0xf) !== OPCODE_QUERY) return bare(id, RCODE.NOTIMP);
  const question = packet.questions?.length === 1 ? packet.questions[0] : undefined;
  if (question === undefined) return bare(id, RCODE.FORMERR);
  const opt = packet.additionals?.find((a): a is dnsPacket.OptAnswer => a.type === 'OPT');
  const reply = replyTo(question, responder);
  const rd = (query.readUInt16BE(2) & dnsPacket.RECURSION_DESIRED) !== 0;
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | (rd ? dnsPacket.RECURSION_DESIRED : 0) | reply.rcode;
  const edns: Answer[] = opt ? [{ name: '.', type: 'OPT', udpPayloadSize: UDP_EDNS_MAX, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [];
  const full = dnsPacket.encode({ type: 'response', id, flags, questions: [question], answers: reply.answers, additionals: [...reply.additionals, ...edns] });
  const limit = transport === 'tcp' ? TCP_MAX : opt ? Math.min(UDP_EDNS_MAX, Math.max(UDP_PLAIN_MAX, opt.udpPayloadSize)) : UDP_PLAIN_MAX;
  if (full.length <= limit) return full;
  return dnsPacket.encode({ type: 'response', id, flags: flags | dnsPacket.TRUNCATED_RESPONSE, questions: [question], answers: [], additionals: edns });
}

function replyTo(question: Question, responder: Responder): { rcode: Rcode; answers: Answer[]; additionals: Answer[] } {
  const klass = String(question.class ?? 'IN');
  if (klass !== 'IN' && klass !== 'ANY') return { rcode: RCODE.REFUSED, answers: [], additionals: [] };
  const services = responder.services();
  if (services === undefined) return { rcode: RCODE.REFUSED, answers: [], additionals: [] };
  return answer(services, question, responder.options);
}

/** A response with no question: for what could not be read as one. */
function bare(id: number, rcode: Rcode): Buffer {
  return dnsPacket.encode({ type: 'response', id, flags: rcode, questions: [], answers: [] });
}
