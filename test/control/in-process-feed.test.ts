import { InProcessChangeFeed } from '../../src/control/in-process-feed.js';
import { changeFeedContract } from './change-feed-contract.js';

changeFeedContract('InProcessChangeFeed', () => new InProcessChangeFeed());
