/**
 * Deletes Kafka topics and a consumer group's offsets so a test or benchmark run starts from an
 * empty log (the fault test and `bench --mode kafka` both rebuild state from the whole history).
 */
import { Admin } from "@platformatic/kafka";

const deleteWaitMaxMs = 60_000;

export async function deleteTopicsAndGroup(
  brokers: readonly string[],
  topicNames: readonly string[],
  groupId: string,
  clientId: string,
): Promise<void> {
  const admin = new Admin({ clientId, bootstrapBrokers: [...brokers], timeout: 10_000, retries: 5 });
  try {
    const existing = await admin.listTopics();
    const doomed = topicNames.filter((name) => existing.includes(name));
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed });
    // Deletion is asynchronous on the broker: wait until the names are free again.
    const deadline = Date.now() + deleteWaitMaxMs;
    while ((await admin.listTopics()).some((name) => topicNames.includes(name))) {
      if (Date.now() > deadline)
        throw new Error(`topics were not deleted within ${deleteWaitMaxMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const groups = await admin.listGroups();
    if (groups.has(groupId)) await admin.deleteGroups({ groups: [groupId] }).catch(() => {});
  } finally {
    await admin.close();
  }
}
