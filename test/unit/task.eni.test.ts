import { describe, expect, test } from "vitest";
import { eniAttachmentId, precreatedEni, privateDnsName, reportedEni } from "../../machines/task/task.eni.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("an awsvpc task's interface attachment", () => {
  test("its id is UUID-shaped, the same for a task id every time, and differs between tasks", () => {
    const a = eniAttachmentId("0123456789abcdef0123456789abcdef");
    expect(a).toMatch(UUID);
    expect(eniAttachmentId("0123456789abcdef0123456789abcdef")).toBe(a);
    const ids = new Set(Array.from({ length: 1000 }, (_, i) => eniAttachmentId(i.toString(16).padStart(32, "0"))));
    expect(ids.size).toBe(1000);
  });

  test("created PRECREATED with its subnet only", () => {
    expect(precreatedEni("t1", "subnet-abcd1234")).toEqual({
      id: eniAttachmentId("t1"),
      type: "ElasticNetworkInterface",
      status: "PRECREATED",
      details: [{ name: "subnetId", value: "subnet-abcd1234" }],
    });
  });

  test("reported with ECS's details in ECS's order, the private DNS name EC2 gives the address", () => {
    const id = eniAttachmentId("t1");
    const eni = reportedEni({
      attachmentId: id,
      status: "ATTACHED",
      subnetId: "subnet-abcd1234",
      region: "us-east-1",
      macAddress: "0e:89:76:28:07:b3",
      privateIPv4Address: "10.0.1.184",
    });
    expect(eni).toEqual({
      id,
      type: "ElasticNetworkInterface",
      status: "ATTACHED",
      details: [
        { name: "subnetId", value: "subnet-abcd1234" },
        { name: "networkInterfaceId", value: `eni-${id.replaceAll("-", "").slice(0, 17)}` },
        { name: "macAddress", value: "0e:89:76:28:07:b3" },
        { name: "privateDnsName", value: "ip-10-0-1-184.ec2.internal" },
        { name: "privateIPv4Address", value: "10.0.1.184" },
      ],
    });
  });

  test("the private DNS name: ec2.internal in us-east-1, <region>.compute.internal elsewhere", () => {
    expect(privateDnsName("172.31.5.9", "us-east-1")).toBe("ip-172-31-5-9.ec2.internal");
    expect(privateDnsName("172.31.5.9", "eu-west-1")).toBe("ip-172-31-5-9.eu-west-1.compute.internal");
  });
});
