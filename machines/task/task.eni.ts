import { contentHash } from "../../events/envelope.ts";
import type { Attachment } from "../../events/shapes.ts";

/**
 * An awsvpc task's elastic network interface, as ECS shows it among the task's attachments
 * (pure). Its life, as AWS answers show it:
 *
 *   RunTask/StartTask ─► PRECREATED (details: subnetId) ─► ATTACHED (subnetId, networkInterfaceId,
 *   macAddress, privateDnsName, privateIPv4Address) ─► DETACHED (the agent let it go, the task
 *   DEPROVISIONING) ─► DELETED once the task is STOPPED
 *
 * The attachment keeps one id throughout: the control plane announces it at creation and the
 * agent reports the interface by it, both deriving it from the task id.
 */

export const ENI_ATTACHMENT = "ElasticNetworkInterface";

/** The subnet of a task whose creation named none (tasks of an older log). */
export const DEFAULT_SUBNET = "subnet-berth";

/** The task's interface attachment id: UUID-shaped, like an ECS attachment's, and the same for a task id every time. */
export function eniAttachmentId(taskId: string): string {
  // Three 14-digit content hashes of the id, each keyed differently: 32 of their 42 hex digits.
  const hex = [1, 2, 3].map((k) => contentHash(`attachment:${k}:${taskId}`)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The attachment an awsvpc task is created with: the interface is not made yet, only its subnet chosen. */
export function precreatedEni(taskId: string, subnetId: string | undefined): Attachment {
  return {
    id: eniAttachmentId(taskId),
    type: ENI_ATTACHMENT,
    status: "PRECREATED",
    details: [{ name: "subnetId", value: subnetId ?? DEFAULT_SUBNET }],
  };
}

/**
 * The private DNS name EC2 gives an interface's private IPv4 address: `ip-10-0-1-184.ec2.internal`
 * in us-east-1, `ip-10-0-1-184.<region>.compute.internal` elsewhere.
 */
export function privateDnsName(privateIPv4Address: string, region: string): string {
  const host = `ip-${privateIPv4Address.replaceAll(".", "-")}`;
  return region === "us-east-1" ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}

/** The interface as its agent reports it (ATTACHED, DETACHED): its id, address and the subnet its task's creation chose. */
export function reportedEni(a: {
  attachmentId: string;
  status: string;
  subnetId: string | undefined;
  region: string;
  macAddress?: string;
  privateIPv4Address?: string;
}): Attachment {
  const ip = a.privateIPv4Address;
  return {
    id: a.attachmentId,
    type: ENI_ATTACHMENT,
    status: a.status,
    details: [
      { name: "subnetId", value: a.subnetId ?? DEFAULT_SUBNET },
      // An EC2 resource id: eni- and 17 hex digits, taken from the attachment's id.
      { name: "networkInterfaceId", value: `eni-${a.attachmentId.replaceAll("-", "").slice(0, 17)}` },
      ...(a.macAddress ? [{ name: "macAddress", value: a.macAddress }] : []),
      ...(ip ? [{ name: "privateDnsName", value: privateDnsName(ip, a.region) }, { name: "privateIPv4Address", value: ip }] : []),
    ],
  };
}

/** The interface while its agent holds it (ATTACHED): a stopped task waits in DEPROVISIONING for its release. */
export const heldEni = (attachments: readonly Attachment[]) =>
  attachments.find((a) => a.type === ENI_ATTACHMENT && a.status === "ATTACHED");

/** Whether the task's interface is gone for good (DELETED): later reports of it change nothing. */
export const eniDeleted = (attachments: readonly Attachment[]) =>
  attachments.some((a) => a.type === ENI_ATTACHMENT && a.status === "DELETED");

/**
 * The attachments with the interface DELETED, as ECS leaves a stopped task's (its details kept);
 * undefined when there is no interface or it is deleted already. Does not modify its input.
 */
export function withEniDeleted(attachments: readonly Attachment[]): Attachment[] | undefined {
  if (!attachments.some((a) => a.type === ENI_ATTACHMENT && a.status !== "DELETED")) return undefined;
  return attachments.map((a) => (a.type === ENI_ATTACHMENT ? { ...a, status: "DELETED" } : a));
}
